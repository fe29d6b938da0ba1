"""What a family sees of progress: only shared entries and feedback for families; sharing."""

from __future__ import annotations

import io

import pytest

from portal.core.extensions import db
from portal.progress import services as progress
from portal.progress.forms import new_token
from portal.progress.models import GoalProgress, ProgressEntry
from tests.fixtures import family as fam
from tests.fixtures import progress as build

SHARED = "I made a ratio table for pancakes."  # fam.build_family's shared entry
UNSHARED = "I got stuck on the third problem and cried a bit."
ENTRY_NOTE_FOR_FAMILY = "Lovely clear table, Maya."
ENTRY_NOTE_STAFF_ONLY = "Needs support plan review."
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def family(make):
    family = fam.build_family(make)
    unshared = progress.log_entry(
        family.goal,
        token=new_token(),
        strategy=str(family.goal.current_version.strategies[0].id),
        other_strategy=None,
        self_rating=1,
        reflection=UNSHARED,
        link_url=None,
        stored=None,
    )
    for entry, body, for_families in (
        (family.entry, ENTRY_NOTE_FOR_FAMILY, True),
        (family.entry, ENTRY_NOTE_STAFF_ONLY, False),
        (unshared, "A note on the unshared entry, for families.", True),
    ):
        progress.add_feedback(
            family.goal,
            family.teacher,
            token=new_token(),
            body=body,
            rating=None,
            for_families=for_families,
            entry=entry,
        )
    make.commit()
    family.unshared = unshared
    return family


def _page(client, family) -> str:
    response = client.get(f"/goals/{family.goal.id}/progress")
    assert response.status_code == 200
    return response.get_data(as_text=True)


# --- The goal's progress page ------------------------------------------------------------


def test_guardian_sees_only_shared_entries_and_feedback_for_families(client, auth, family):
    auth.login(family.guardian)
    html = _page(client, family)
    assert "ratio table for pancakes" in html
    assert ENTRY_NOTE_FOR_FAMILY in html and fam.TEACHER_NOTE_FOR_FAMILY in html
    assert UNSHARED not in html
    assert "A note on the unshared entry" not in html  # for families, but on a hidden entry
    assert ENTRY_NOTE_STAFF_ONLY not in html and fam.PRIVATE_NOTE not in html
    assert "1 progress entry" in html
    assert "share-toggle" not in html  # no toggle for a guardian, only the tag
    assert "shared with family" in html


@pytest.mark.parametrize("who", ["maya", "teacher", "admin"])
def test_learner_and_staff_see_everything(client, auth, family, who):
    auth.login(getattr(family, who))
    html = _page(client, family)
    for text in (
        "ratio table for pancakes",
        UNSHARED,
        ENTRY_NOTE_FOR_FAMILY,
        ENTRY_NOTE_STAFF_ONLY,
        fam.TEACHER_NOTE_FOR_FAMILY,
        fam.PRIVATE_NOTE,
    ):
        assert text in html, (who, text)
    assert ("share-toggle" in html) is (who == "maya")


# --- Evidence files ------------------------------------------------------------------------


def _upload(client, goal, *, shared: bool, token: str) -> ProgressEntry:
    data = {
        "token": token,
        "strategy": str(goal.current_version.strategies[0].id),
        "self_rating": "2",
        "reflection": f"My essay, shared={shared}",
        "evidence": (io.BytesIO(PDF), "essay.pdf"),
    }
    if shared:
        data["shared_with_family"] = "y"
    response = client.post(
        f"/goals/{goal.id}/progress", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 303
    return db.session.query(ProgressEntry).filter_by(token=token).one()


def test_guardian_downloads_only_shared_files(client, auth, family):
    auth.login(family.maya)
    shared = _upload(client, family.goal, shared=True, token="tok-shared-aaaaaaaaaa")
    hidden = _upload(client, family.goal, shared=False, token="tok-hidden-aaaaaaaaaa")
    assert shared.shared_with_family and not hidden.shared_with_family
    assert client.get(f"/progress/entries/{hidden.id}/evidence").status_code == 200
    auth.logout()
    auth.login(family.guardian)
    assert client.get(f"/progress/entries/{shared.id}/evidence").status_code == 200
    assert client.get(f"/progress/entries/{hidden.id}/evidence").status_code == 404
    # The family page links the shared file, and only that one.
    html = client.get(f"/family/children/{family.maya.id}").get_data(as_text=True)
    assert f"/progress/entries/{shared.id}/evidence" in html
    assert f"/progress/entries/{hidden.id}/evidence" not in html
    auth.logout()
    auth.login(family.other_guardian)
    assert client.get(f"/progress/entries/{shared.id}/evidence").status_code == 404


def test_log_form_offers_sharing_off_by_default(client, auth, family):
    auth.login(family.maya)
    html = _page(client, family)
    assert 'name="shared_with_family"' in html and "Show this to my family" in html
    checkbox = html[html.index('name="shared_with_family"') - 200 :].split(">", 2)[1]
    assert "checked" not in checkbox


# --- The learner's toggle ----------------------------------------------------------------


def _version(goal) -> int:
    db.session.expire_all()
    return db.session.get(GoalProgress, goal.id).version


def test_learner_shares_and_unshares_and_trackers_refresh(client, auth, family):
    auth.login(family.maya)
    url = f"/progress/entries/{family.unshared.id}/share"
    before = _version(family.goal)
    response = client.post(url, data={"shared": "y"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        f"/goals/{family.goal.id}/progress#entry-{family.unshared.id}"
    )
    assert db.session.get(ProgressEntry, family.unshared.id).shared_with_family
    assert _version(family.goal) == before + 1
    assert client.post(url, data={}).status_code == 303  # no `shared`: stop showing
    assert not db.session.get(ProgressEntry, family.unshared.id).shared_with_family
    assert _version(family.goal) == before + 2
    client.post(url, data={})  # nothing changes: no new version
    assert _version(family.goal) == before + 2


def test_toggle_over_htmx_returns_the_entry_fragment(client, auth, family):
    auth.login(family.maya)
    response = client.post(
        f"/progress/entries/{family.unshared.id}/share", data={"shared": "y"}, headers=fam.HX
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith(f'<article class="entry" id="entry-{family.unshared.id}"')
    assert "Stop showing my family" in html and UNSHARED in html


def test_guardian_sees_an_entry_once_it_is_shared(client, auth, family):
    auth.login(family.maya)
    client.post(f"/progress/entries/{family.unshared.id}/share", data={"shared": "y"})
    auth.logout()
    auth.login(family.guardian)
    assert UNSHARED in _page(client, family)
    assert UNSHARED in client.get(f"/family/children/{family.maya.id}").get_data(as_text=True)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("leo", 404),  # another learner, even a sibling
        ("guardian", 403),
        ("other_guardian", 403),  # stopped by the role before any lookup
        ("teacher", 403),
        ("admin", 403),
    ],
)
def test_only_the_learner_toggles_their_entry(client, auth, family, who, status):
    auth.login(getattr(family, who))
    before = _version(family.goal)
    response = client.post(f"/progress/entries/{family.entry.id}/share", data={})
    assert response.status_code == status
    assert db.session.get(ProgressEntry, family.entry.id).shared_with_family  # unchanged
    assert _version(family.goal) == before


def test_missing_entry_is_404(client, auth, family):
    auth.login(family.maya)
    assert client.post("/progress/entries/999999/share", data={"shared": "y"}).status_code == 404


# --- Queries -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["maya", "guardian", "teacher"])
def test_goal_page_queries_do_not_grow_with_entries(client, auth, make, count_queries, who):
    family = fam.build_family(make)
    goal = family.goal

    def add(n: int) -> None:
        for i in range(n):
            entry = build.entry(make, goal, 2)
            entry.shared_with_family = i % 2 == 0
            progress.add_feedback(
                goal,
                family.teacher,
                token=new_token(),
                body=f"Note {i}",
                rating=3,
                for_families=i % 3 == 0,
                entry=entry,
            )
        make.commit()

    auth.login(getattr(family, who))
    url = f"/goals/{goal.id}/progress"

    def measure() -> tuple[list[str], str]:
        client.get(url)  # the same warm-up both times: the test shares the app's session
        with count_queries() as statements:
            html = client.get(url).get_data(as_text=True)
        return statements, html

    add(4)  # 5 entries with the family's shared one
    few, _ = measure()
    add(25)  # 30
    many, html = measure()
    assert "Note 24" in html
    assert len(many) == len(few), (who, len(few), len(many))
