"""A guardian writes nothing but cheers, invite redemptions, their own settings and the
requests the record gives them a right to (a copy, a correction, a printed report).

Walks every POST route in the real url_map, fills its ids with the guardian's OWN
child's objects (the closest a guardian comes to being allowed), and asserts 403 or
404 and that no table changed. Routes added later are covered the moment they exist.
"""

from __future__ import annotations

from sqlalchemy import func, select

from portal.core.extensions import db
from portal.family.models import Cheer
from portal.profiles import services as profiles
from portal.roster.models import Enrollment, EnrollmentRole
from tests.fixtures import family as fam

# What a guardian may post. Everything else must answer 403 or 404 and write nothing.
ALLOWED = {
    "family.cheer",  # a short cheer on their child's goal
    "family.redeem",  # link their account with a family invite code
    "auth.language",  # their own language setting
    "auth.logout",  # sign out
    # "Seen by family" on a conference (Action.ACKNOWLEDGE): a note that they read it,
    # never a signature and never a change to the goal.
    "conferences.acknowledge",
    "auth.keep_alive",  # "Stay signed in": their own session, nothing of a learner's
    "auth.discard_resume",  # throw away their own form kept from before signing in again
    # The family's rights over the record (issue 16): a copy of it, a correction asked
    # for, a progress report printed. Each starts a job or a request of the guardian's
    # own and changes nothing of the child's.
    "record_export.start",
    "rights.corrections",
    "reports.family",
}
# Tables a refused request may still touch: the session row (last seen) and the access log.
IGNORED_TABLES = {"login_sessions", "access_log"}


def _values(rule, family, ids) -> dict:
    values = {}
    for name, converter in rule._converters.items():
        if name == "entry_id":
            values[name] = ids["profile_entry_id" if "/profile/" in rule.rule else "entry_id"]
        elif name in ids:
            values[name] = ids[name]
        elif name == "key":
            values[name] = "interests"
        elif type(converter).__name__ == "IntegerConverter":
            values[name] = 1
        else:
            values[name] = "x"
    return values


def _counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
        if table.name not in IGNORED_TABLES
    }


def test_a_guardian_can_post_nothing_but_cheers_invites_and_settings(app, client, auth, make):
    family = fam.build_family(make)
    enrollment = db.session.scalars(
        select(Enrollment).where(
            Enrollment.user_id == family.maya.id, Enrollment.role == EnrollmentRole.LEARNER
        )
    ).first()
    profile_entry = profiles.add_entry(
        family.maya, profiles.find_spec(family.maya, "about"), family.maya, "Hello"
    )
    review = profiles.request_review(family.maya, None)
    cheer = make._add(
        Cheer(
            learner_id=family.maya.id,
            goal_id=family.goal.id,
            author_id=family.guardian.id,
            body="Hi",
        )
    )
    target_id = family.goal.current_version.targets[0].target_id
    ids = {
        "learner_id": family.maya.id,
        "user_id": family.maya.id,
        "goal_id": family.goal.id,
        "entry_id": family.entry.id,
        "progress_entry_id": family.entry.id,
        "profile_entry_id": profile_entry.id,
        "class_id": enrollment.class_id,
        "enrollment_id": enrollment.id,
        "link_id": family.link.id,
        "cheer_id": cheer.id,
        "school_id": family.school.id,
        "target_id": target_id,
        "request_id": review.id,
    }
    make.commit()
    auth.login(family.guardian)
    public = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if getattr(app.view_functions[rule.endpoint], "access", None) == "public"
    }
    walked, wrong = [], []
    before = _counts()
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint in ALLOWED:
            continue
        if rule.endpoint in public:
            continue  # sign-in pages: open to anyone, they write nothing of a learner's
        _, url = rule.build(_values(rule, family, ids), append_unknown=False)
        status = client.post(url, data={}).status_code
        walked.append(rule.endpoint)
        if status not in (403, 404):
            wrong.append(f"{rule.endpoint} {url} -> {status}")
    assert not wrong, wrong
    assert _counts() == before
    assert {"family.hide_cheer", "family.invites", "progress.share_entry"} <= set(walked)
    assert len(walked) >= 10  # the walk really walked


def test_the_allowed_posts_work_for_a_guardian(client, auth, make):
    family = fam.build_family(make)
    auth.login(family.guardian)
    goal = family.goal
    assert (
        client.post(
            f"/family/goals/{goal.id}/cheers", data={f"g{goal.id}-body": "Bravo"}
        ).status_code
        == 303
    )
    assert client.post("/family/redeem", data={"code": "AAAAA-AAAAA"}).status_code == 422
    assert client.post("/language", data={"locale": "es"}).status_code == 303
    db.session.refresh(family.guardian)
    assert family.guardian.locale == "es"
    assert client.post("/signout").status_code == 303
