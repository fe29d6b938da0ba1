"""Program flags reach insights from a OneRoster import's `metadata.*` demographics columns."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.auth.models import User
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.insights.compute import learner_facts
from portal.insights.scope import Scope, learner_ids_stmt
from portal.rostering.apply import apply_import
from portal.rostering.models import Demographics
from tests.rostering_kit import Kit, district_and_admin

pytestmark = pytest.mark.usefixtures("backend")


def test_metadata_program_columns_are_kept_and_read_as_flags(make, tmp_path):
    kit = Kit(tmp_path / "package")
    header = [*kit.header("demographics.csv"), "metadata.ELL", "metadata.iep", "metadata.504"]
    rows = kit.rows("demographics.csv")
    rows[0].update({"metadata.ELL": "Y", "metadata.iep": "false", "metadata.504": "true"})
    rows[1].update({"metadata.ELL": "", "metadata.iep": "1", "metadata.504": "no"})
    kit.write("demographics.csv", rows, header)
    district, admin = district_and_admin(make)
    apply_import(kit.path, scope=district, actor=admin, confirmed_guard=False)
    db.session.commit()
    mia = db.session.scalar(select(User).where(User.source_id == "u-l1"))
    stored = db.session.get(Demographics, mia.id)
    assert stored.programs["ELL"] == "Y" and stored.programs["504"] == "true"
    now = utcnow()
    facts = learner_facts(learner_ids_stmt(Scope(district.id), now), now, now)
    by_source = {db.session.get(User, lid).source_id: f for lid, f in facts.items()}
    assert by_source["u-l1"].programs == "ell 504"
    assert by_source["u-l2"].programs == "iep"
    assert (by_source["u-l1"].sex, by_source["u-l1"].race) == ("female", "white")
    assert by_source["u-l2"].ethnicity == "not_hispanic_or_latino"
