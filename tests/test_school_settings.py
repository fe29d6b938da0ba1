"""The school's settings kept per process (`portal.school_settings`): read once per site
stamp, and read again as soon as a settings change is committed anywhere."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal import school_settings
from portal.conferences.models import ConferenceSettings
from portal.core.extensions import db
from portal.profiles.models import ProfileSectionDef
from portal.progress.models import LevelMethod, ProgressSettings
from portal.targets.models import MasteryLevel
from tests.fixtures import progress as build


def test_settings_are_read_once_per_site_stamp(app, make):
    school = make.default_school()
    build.scale(make)
    make.commit()
    first = school_settings.for_school(school.id)
    again = school_settings.for_school(school.id)
    assert again is first  # kept: no new read
    assert [lv.value for lv in first.scale.levels] == [1, 2, 3, 4]
    assert first.cycle_days == 30 and first.progress is None and first.section_specs == ()


def test_a_settings_change_committed_elsewhere_is_seen_at_once(app, make):
    school = make.default_school()
    build.scale(make)
    make.commit()
    school_id = school.id
    before = school_settings.for_school(school_id)
    assert before.scale.level(2).label != "Getting there"

    def change(session):
        level = session.scalars(
            select(MasteryLevel).where(
                MasteryLevel.scale_id == before.scale.id, MasteryLevel.value == 2
            )
        ).one()
        level.label = "Getting there"
        session.add(ConferenceSettings(school_id=school_id, cycle_days=14))
        session.add(ProgressSettings(school_id=school_id, method=LevelMethod.HIGHEST))
        session.add(ProfileSectionDef(school_id=school_id, title="My music", position=1))

    db.session.remove()  # this "worker" is done with its request
    with app.app_context():  # another worker's request: its own session and connection
        change(db.session)
        db.session.commit()
    after = school_settings.for_school(school_id)
    assert after is not before
    assert after.scale.level(2).label == "Getting there"
    assert after.cycle_days == 14
    assert after.progress.method is LevelMethod.HIGHEST
    assert [spec.title for spec in after.section_specs] == ["My music"]


def test_the_learner_home_shows_a_level_renamed_by_an_admin(app, client, auth, make):
    school = make.default_school()
    learner = make.learner()
    build.scale(make)
    goal = build.goal(make, learner)
    build.entry(make, goal, 2, days_ago=1)
    make.commit()
    auth.login(learner)
    page = client.get("/").get_data(as_text=True)
    assert re.search(r"Now:\s*<strong>Developing</strong>", page)
    assert "of 7 sections" in page
    scale_id = school_settings.for_school(school.id).scale.id
    db.session.remove()
    level = db.session.scalars(
        select(MasteryLevel).where(MasteryLevel.scale_id == scale_id, MasteryLevel.value == 2)
    ).one()
    level.label = "Getting there"
    db.session.add(ProfileSectionDef(school_id=school.id, title="My music", position=1))
    db.session.commit()
    db.session.remove()
    page = client.get("/").get_data(as_text=True)
    assert re.search(r"Now:\s*<strong>Getting there</strong>", page)
    assert "of 8 sections" in page
