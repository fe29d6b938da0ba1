def test_signin_page_renders(client):
    response = client.get("/signin")
    assert response.status_code == 200
    assert b"Sign in to Waypoint" in response.data


def test_home_requires_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/signin" in response.headers["Location"]


def test_teacher_signs_in_and_sees_their_class(client, auth, make):
    teacher = make.teacher()
    learner = make.learner(given_name="Zora")
    make.school_class(teacher=teacher, learners=[learner], title="Grade 6 Math")
    make.commit()
    auth.login(teacher)
    page = client.get("/").get_data(as_text=True)
    assert "Grade 6 Math" in page
