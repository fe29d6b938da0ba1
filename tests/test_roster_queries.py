"""The roster's read queries, on SQLite and on PostgreSQL (which is stricter about GROUP BY)."""

from portal.roster import queries


def test_teacher_classes_this_term_with_learner_counts(app, make):
    teacher = make.teacher()
    learners = [make.learner() for _ in range(3)]
    big = make.school_class(teacher=teacher, learners=learners, title="B class", period="1")
    # No period: listed after the classes that have one, on both databases.
    empty = make.school_class(teacher=teacher, title="A class")
    make.school_class(teacher=teacher, learners=learners, term=make.term(current=False))
    make.school_class(teacher=make.teacher(), learners=learners)
    make.commit()

    rows = queries.classes_taught_by(teacher)

    assert [(c.id, n) for c, n in rows] == [(big.id, 3), (empty.id, 0)]
    assert rows[0][0].term.title  # the term is loaded with the class


def test_teacher_home_lists_the_classes(app, make, client, auth):
    teacher = make.teacher()
    make.school_class(teacher=teacher, learners=[make.learner()], title="Grade 7 Math")
    make.commit()
    auth.login(teacher)

    response = client.get("/")

    assert response.status_code == 200
    assert "Grade 7 Math" in response.get_data(as_text=True)
