"""The family page: children and the switcher, plain words, what is shared and what is not."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.family.models import Cheer
from portal.goals.models import GoalStatus
from portal.roster.models import GuardianLink
from tests.fixtures import family as fam
from tests.fixtures import progress as build


@pytest.fixture
def family(make):
    return fam.build_family(make)


def test_guardian_home_shows_the_first_child_and_a_switcher(client, auth, family):
    auth.login(family.guardian)
    page = client.get("/").get_data(as_text=True)
    assert 'aria-label="Choose a child"' in page
    assert f'href="/family/children/{family.leo.id}"' in page
    assert "Leo Johnson" in page and "Maya</a>" in page  # the first child, by given name
    # Leo sorts first: his goal is on the home page, Maya's is not.
    assert "chapter books" in page
    assert "ratios by May" not in page


def test_switching_child_over_htmx_gets_the_fragment_only(client, auth, family):
    auth.login(family.guardian)
    response = client.get(f"/family/children/{family.maya.id}", headers=fam.HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="family-main"')
    assert "ratios by May" in html
    assert 'aria-current="page"' in html and f"/family/children/{family.maya.id}" in html


def test_switching_child_without_js_gets_the_whole_page(client, auth, family):
    auth.login(family.guardian)
    html = client.get(f"/family/children/{family.maya.id}").get_data(as_text=True)
    assert "<html" in html and "ratios by May" in html


def test_child_page_speaks_plain_words_and_shows_only_what_is_shared(client, auth, family):
    auth.login(family.guardian)
    html = client.get(f"/family/children/{family.maya.id}").get_data(as_text=True)
    assert fam.FAMILY_WORDS in html
    assert "7.RP.A.1" not in html  # no bare codes
    assert "unit rates associated" not in html  # the family wording replaces the statement
    assert fam.TEACHER_NOTE_FOR_FAMILY in html
    assert fam.PRIVATE_NOTE not in html  # feedback not marked for families
    assert "ratio table for pancakes" in html  # the entry Maya shared
    assert fam.SHARED_SECTION_TEXT in html
    assert fam.UNSHARED_SECTION_TEXT not in html  # a profile section Maya did not share
    assert "Ask Maya about" in html and "Explain it to a partner" in html
    assert "Agreed by Maya and the teacher" in html
    assert 'class="tracker"' in html and "Log progress" not in html  # read-only tracker


def test_unshared_entry_is_not_on_the_family_page(client, auth, family, make):
    family.entry.shared_with_family = False
    make.commit()
    auth.login(family.guardian)
    html = client.get(f"/family/children/{family.maya.id}").get_data(as_text=True)
    assert "ratio table for pancakes" not in html


def test_only_agreed_goals_are_shown_and_reached_ones_are_celebrated(client, auth, family, make):
    build.goal(make, family.maya, status=GoalStatus.DRAFT, statement="A draft nobody agreed to")
    build.goal(make, family.maya, status=GoalStatus.MET, statement="Multiply fractions")
    make.commit()
    auth.login(family.guardian)
    html = client.get(f"/family/children/{family.maya.id}").get_data(as_text=True)
    assert "A draft nobody agreed to" not in html
    assert "Goals Maya reached" in html and "Multiply fractions" in html


@pytest.mark.parametrize("who", ["other_guardian", "teacher", "admin", "maya"])
def test_others_cannot_open_the_child_page(client, auth, family, who):
    auth.login(getattr(family, who))
    status = client.get(f"/family/children/{family.maya.id}").status_code
    assert status == (404 if who == "other_guardian" else 403)


def test_another_familys_child_is_404(client, auth, family):
    auth.login(family.guardian)
    assert client.get(f"/family/children/{family.other_child.id}").status_code == 404
    assert client.get(f"/family/learners/{family.other_child.id}/cheers").status_code == 404


def test_deactivated_link_is_out_on_the_next_request(client, auth, family):
    auth.login(family.guardian)
    assert client.get(f"/family/children/{family.maya.id}").status_code == 200
    db.session.execute(
        update(GuardianLink)
        .where(GuardianLink.id == family.link.id)
        .values(active=False, deactivated_at=utcnow())
    )
    db.session.commit()
    assert client.get(f"/family/children/{family.maya.id}").status_code == 404
    assert client.get(f"/learners/{family.maya.id}").status_code == 404
    home = client.get("/").get_data(as_text=True)
    assert "Maya" not in home and 'aria-label="Choose a child"' not in home
    cheer = client.post(
        f"/family/goals/{family.goal.id}/cheers", data={f"g{family.goal.id}-body": "Hi"}
    )
    assert cheer.status_code == 404


def test_deactivated_guardian_account_is_signed_out_on_the_next_request(client, auth, family):
    auth.login(family.guardian)
    assert client.get("/").status_code == 200
    family.guardian.active = False
    db.session.commit()
    response = client.get(f"/family/children/{family.maya.id}")
    assert response.status_code == 302 and response.headers["Location"].startswith("/signin")


def test_guardian_without_children_is_told_how_to_link(client, auth, make):
    guardian = make.guardian()
    make.commit()
    auth.login(guardian)
    html = client.get("/").get_data(as_text=True)
    assert "No child is linked to your account yet." in html
    assert 'href="/family/redeem"' in html


def test_family_page_queries_do_not_grow_with_goals(
    app, client, auth, family, make, count_queries
):
    auth.login(family.guardian)
    url = f"/family/children/{family.maya.id}"
    client.get(url)
    with count_queries() as few:
        client.get(url)
    for i in range(4):
        g = build.goal(make, family.maya, statement=f"Extra goal {i}")
        fam.add_target(make, g, family.school)
        build.entry(make, g, 2)
        db.session.add(
            Cheer(learner_id=family.maya.id, goal_id=g.id, author_id=family.guardian.id, body="Go!")
        )
    make.commit()
    with count_queries() as many:
        html = client.get(url).get_data(as_text=True)
    assert "Extra goal 3" in html
    assert len(many) <= len(few) + 2, (len(few), len(many))
