"""The insights pages: who sees which page, that no child is ever named on them (pages,
CSV, URLs), breakdowns a teacher may not pick, htmx fragments, targets and PL specialists.

The numbers themselves are insights-core's (tests/test_insights_measures.py); here the
world is small and shared per backend (module scope) for the read-only checks.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.auth.models import Role, SpecialistSchool, User
from portal.core import jobs
from portal.core.extensions import db
from portal.core.jobs import Job
from portal.core.timeutil import today
from portal.insights import charts
from portal.insights.compute import BREAKDOWNS, GROUP_BREAKDOWNS
from portal.insights.targets import (
    MET,
    OFF_TRACK,
    ON_TRACK,
    UNKNOWN,
    SuccessIndicator,
    progress_toward,
)
from portal.rostering.models import Demographics
from tests.fixtures.factories import Factory
from tests.test_policy_matrix import _shared_app, _sign_in

SURNAME = "Quillfeather"  # every learner's family name: must never show on an insights page


def _build(make: Factory) -> dict:
    district = make.district("Lakeview District")
    riverside = make.school("Riverside", district)
    hillside = make.school("Hillside", district)
    term = make.term(org=district)
    ta, ta2, tb = make.teacher(riverside), make.teacher(riverside), make.teacher(hillside)
    kids_a = [
        make.learner(riverside, given_name=f"Zebedee{n}", family_name=SURNAME) for n in range(12)
    ]
    kids_a2 = [
        make.learner(riverside, given_name=f"Ottilie{n}", family_name=SURNAME) for n in range(3)
    ]
    kids_b = [
        make.learner(hillside, given_name=f"Peregrine{n}", family_name=SURNAME) for n in range(4)
    ]
    ca = make.school_class(teacher=ta, learners=kids_a, school=riverside, term=term)
    ca2 = make.school_class(teacher=ta2, learners=kids_a2, school=riverside, term=term)
    cb = make.school_class(teacher=tb, learners=kids_b, school=hillside, term=term)
    guardian = make.guardian()
    make.link(guardian, kids_a[0])
    pl = make.user(Role.PL_SPECIALIST, district)
    make._add(SpecialistSchool(user_id=pl.id, school_id=riverside.id))
    people = {
        "district_admin": make.district_admin(district),
        "school_admin": make.school_admin(riverside),
        "pl_specialist": pl,
        "teacher": ta,
        "learner": kids_a[1],
        "guardian": guardian,
    }
    make.commit()
    return {
        "people": people,
        "a": riverside.id,
        "b": hillside.id,
        "ca": ca.id,
        "ca2": ca2.id,
        "cb": cb.id,
        "learner_ids": [k.id for k in kids_a + kids_a2 + kids_b],
        "names": [k.given_name for k in kids_a + kids_a2 + kids_b],
    }


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.both_backends)]
)
def world(request):
    with _shared_app(request, request.param) as app:
        w = _build(Factory(db.session))
        clients = {}
        for role, person in w["people"].items():
            clients[role] = app.test_client()
            _sign_in(clients[role], person)
        yield app, w, clients


def _urls(w) -> dict[str, str]:
    return {
        "district": "/insights/district",
        "school_a": f"/insights/schools/{w['a']}",
        "school_b": f"/insights/schools/{w['b']}",
        "class_a": f"/insights/classes/{w['ca']}",
        "class_a2": f"/insights/classes/{w['ca2']}",
        "class_b": f"/insights/classes/{w['cb']}",
        "teaching": "/insights/teaching",
        "district_measure": "/insights/district/measures/agreed_goal",
        "school_measure": f"/insights/schools/{w['a']}/measures/never_started",
        "class_measure": f"/insights/classes/{w['ca']}/measures/logged_14d",
        "district_csv": "/insights/district?by=school&format=csv",
        "school_csv": f"/insights/schools/{w['a']}?by=class&format=csv",
        "targets": "/insights/targets",
        "specialists": "/insights/specialists",
    }


OK, NO, HIDDEN = 200, 403, 404
# role -> page -> status. Out-of-reach objects are 404 (hidden), wrong roles 403.
EXPECTED = {
    "district_admin": dict(
        district=OK, school_a=OK, school_b=OK, class_a=OK, class_a2=OK, class_b=OK,
        teaching=NO, district_measure=OK, school_measure=OK, class_measure=OK,
        district_csv=OK, school_csv=OK, targets=OK, specialists=OK,
    ),
    "school_admin": dict(
        district=NO, school_a=OK, school_b=HIDDEN, class_a=OK, class_a2=OK, class_b=HIDDEN,
        teaching=NO, district_measure=NO, school_measure=OK, class_measure=OK,
        district_csv=NO, school_csv=OK, targets=OK, specialists=NO,
    ),
    "pl_specialist": dict(
        district=OK, school_a=OK, school_b=HIDDEN, class_a=OK, class_a2=OK, class_b=HIDDEN,
        teaching=NO, district_measure=OK, school_measure=OK, class_measure=OK,
        district_csv=OK, school_csv=OK, targets=OK, specialists=NO,
    ),
    "teacher": dict(
        district=NO, school_a=NO, school_b=NO, class_a=OK, class_a2=HIDDEN, class_b=HIDDEN,
        teaching=OK, district_measure=NO, school_measure=NO, class_measure=OK,
        district_csv=NO, school_csv=NO, targets=NO, specialists=NO,
    ),
    "learner": {},  # 403 everywhere
    "guardian": {},
}  # fmt: skip


@pytest.mark.both_backends
@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_role_matrix_of_the_insights_pages(world, role):
    _app, w, clients = world
    wrong = {}
    for page, url in _urls(w).items():
        expected = EXPECTED[role].get(page, NO)
        got = clients[role].get(url).status_code
        if got != expected:
            wrong[page] = (got, expected)
    assert not wrong, wrong


@pytest.mark.both_backends
@pytest.mark.parametrize("role", ["pl_specialist", "teacher"])
def test_no_child_is_named_on_any_insights_page_csv_or_url(world, role):
    """Every page the role reaches, with every breakdown and as CSV: no learner's name."""
    _app, w, clients = world
    client = clients[role]
    widest = "district" if role == "pl_specialist" else "teaching"
    requests = []
    for page, url in _urls(w).items():
        if EXPECTED[role].get(page, NO) == OK:
            requests += [url, url + ("&" if "?" in url else "?") + "format=csv"]
    for by in BREAKDOWNS:  # every breakdown, as a page and as CSV, on the widest page
        requests += [f"{_urls(w)[widest]}?by={by}", f"{_urls(w)[widest]}?by={by}&format=csv"]
    for url in requests:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        assert SURNAME not in body, url
        assert not any(name in body for name in w["names"]), url
    assert len(requests) > 20
    # ... and a PL specialist reaches no learner page nor a class roster either.
    if role == "pl_specialist":
        for learner_id in w["learner_ids"][:2]:
            assert client.get(f"/learners/{learner_id}").status_code in (403, 404)
        assert client.get(f"/classes/{w['ca']}").status_code in (403, 404)
        home = client.get("/").get_data(as_text=True)
        assert "Riverside" in home and SURNAME not in home


@pytest.mark.both_backends
def test_teachers_never_get_group_breakdowns_for_their_class(world):
    _app, w, clients = world
    client = clients["teacher"]
    page = client.get(f"/insights/classes/{w['ca']}").get_data(as_text=True)
    for by in GROUP_BREAKDOWNS:
        assert f'value="{by}"' not in page
    asked = client.get(f"/insights/classes/{w['ca']}?by=sex").get_data(as_text=True)
    assert "That breakdown is not available here" in asked
    assert "Female" not in asked and "Not reported" not in asked
    csv = client.get(f"/insights/classes/{w['ca']}?by=race&format=csv").get_data(as_text=True)
    assert len(csv.strip().splitlines()) == 2  # the header and the total only
    # Their drill-down is the class page they already may see.
    assert f'href="/classes/{w["ca"]}"' in page
    # A school admin may pick them for the same class.
    admin_page = clients["school_admin"].get(f"/insights/classes/{w['ca']}").get_data(as_text=True)
    assert 'value="sex"' in admin_page


@pytest.mark.both_backends
def test_pages_work_without_javascript_and_htmx_gets_the_table_block(world):
    app, w, clients = world
    client = clients["district_admin"]
    page = client.get("/insights/district?by=school")
    body = page.get_data(as_text=True)
    assert body.startswith("<!doctype html>")
    assert 'method="get" action="/insights/district"' in body
    assert "<svg" in body and 'role="img"' in body and "<table" in body
    assert f'href="/insights/schools/{w["a"]}"' in body  # rows link to the school's page
    assert "/insights/district/measures/agreed_goal" in body
    fragment = client.get("/insights/district?by=grade", headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert text.lstrip().startswith('<div id="insights-table"')
    assert "<html" not in text and "<svg" in text
    csv = client.get("/insights/district?by=school&format=csv")
    assert csv.mimetype == "text/csv"
    assert "attachment" in csv.headers["Content-Disposition"]
    lines = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert "group,learners,agreed_goal" in lines[0]
    assert any(",Riverside," in line for line in lines)
    # The time machine: a past cycle's end is offered and accepted; a made-up date is refused.
    bad = client.get("/insights/district?as_of=1999-01-01").get_data(as_text=True)
    assert "not the end of a past cycle" in bad
    assert client.get("/insights/district?as_of=not-a-date").status_code == 200
    measure = client.get("/insights/district/measures/agreed_goal").get_data(as_text=True)
    assert "Definition" in measure and "Trend over the last cycles" in measure
    assert measure.count("<svg") == 2  # the breakdown's bars and the trend line
    assert client.get("/insights/district/measures/nope").status_code == 404
    # A minimum cell below 5 is refused: a message, never unprotected numbers, never a 500.
    app.config["INSIGHTS_MIN_CELL"] = 4
    try:
        refused = client.get("/insights/district")
    finally:
        app.config["INSIGHTS_MIN_CELL"] = 10
    assert refused.status_code == 503
    assert "Insights are switched off" in refused.get_data(as_text=True)


# --- Targets: set, edit, remove; who may --------------------------------------------


@pytest.mark.both_backends
def test_targets_crud_and_who_may(app, client, auth, make, backend):
    w = _build(make)
    people = w["people"]
    due = (today() + timedelta(days=120)).isoformat()
    auth.login(people["district_admin"])
    district_id = people["district_admin"].org_id
    refused = client.post(
        "/insights/targets",
        data={"org": str(district_id), "measure": "agreed_goal", "percent": "0", "due_on": due},
    )
    assert refused.status_code == 422
    assert "Enter a percent from 1 to 100." in refused.get_data(as_text=True)
    past = client.post(
        "/insights/targets",
        data={
            "org": str(district_id),
            "measure": "agreed_goal",
            "percent": "80",
            "due_on": "2000-01-01",
        },
    )
    assert past.status_code == 422
    made = client.post(
        "/insights/targets",
        data={"org": str(district_id), "measure": "agreed_goal", "percent": "80", "due_on": due},
    )
    assert made.status_code == 303
    indicator = db.session.scalar(select(SuccessIndicator))
    assert (indicator.org_id, indicator.target_percent) == (district_id, 80)
    school_page = client.get(f"/insights/schools/{w['a']}").get_data(as_text=True)
    assert "Progress toward targets" in school_page
    edited = client.post(
        f"/insights/targets/{indicator.id}",
        data={"org": str(district_id), "measure": "own_words", "percent": "60", "due_on": due},
    )
    assert edited.status_code == 303
    db.session.expire_all()
    assert (indicator.measure_key, indicator.target_percent) == ("own_words", 60)
    auth.logout()

    # A school admin reads the district's target but may not change it; a PL specialist reads.
    auth.login(people["school_admin"])
    assert "60%" in client.get("/insights/targets").get_data(as_text=True)
    assert client.post(f"/insights/targets/{indicator.id}/delete").status_code == 403
    other = client.post(
        "/insights/targets",
        data={"org": str(w["b"]), "measure": "agreed_goal", "percent": "50", "due_on": due},
    )
    assert other.status_code == 422  # not one of their schools
    auth.logout()
    auth.login(people["pl_specialist"])
    assert client.get("/insights/targets").status_code == 200
    assert client.post("/insights/targets", data={}).status_code == 403
    auth.logout()

    auth.login(people["district_admin"])
    assert client.post(f"/insights/targets/{indicator.id}/delete").status_code == 303
    assert db.session.scalar(select(SuccessIndicator)) is None


@pytest.mark.both_backends
def test_district_admin_creates_a_pl_specialist_and_assigns_schools(
    app, client, auth, make, backend
):
    w = _build(make)
    admin = w["people"]["district_admin"]
    auth.login(admin)
    created = client.post(
        "/admin/people/new",
        data={
            "given_name": "Pat",
            "family_name": "Lee",
            "username": "pat.lee",
            "role": "pl_specialist",
            "school": str(w["b"]),
            "password": "a long enough password 1",
            "grade": "",
            "relationship": "parent",
        },
    )
    errors = [line for line in created.get_data(as_text=True).splitlines() if "-error" in line]
    assert created.status_code == 303, errors
    pat = db.session.scalar(select(User).where(User.username == "pat.lee"))
    assert pat.role is Role.PL_SPECIALIST and pat.org_id == admin.org_id
    assigned = set(
        db.session.scalars(
            select(SpecialistSchool.school_id).where(SpecialistSchool.user_id == pat.id)
        )
    )
    assert assigned == {w["b"]}
    assert "Schools of Pat Lee" in client.get("/insights/specialists").get_data(as_text=True)
    saved = client.post(
        f"/insights/specialists/{pat.id}/schools",
        data={f"p{pat.id}-schools": [str(w["a"]), str(w["b"])]},
    )
    assert saved.status_code == 303
    assigned = set(
        db.session.scalars(
            select(SpecialistSchool.school_id).where(SpecialistSchool.user_id == pat.id)
        )
    )
    assert assigned == {w["a"], w["b"]}
    # Only PL specialists of the admin's own district: a learner id is a 404.
    assert (
        client.post(f"/insights/specialists/{w['learner_ids'][0]}/schools", data={}).status_code
        == 404
    )


# --- Pure: chart geometry and "on track" ----------------------------------------------


def test_bar_chart_geometry_scales_shares_and_marks_suppressed_cells():
    chart = charts.bar_chart(
        [("Riverside", 0.5, "50%"), ("Hillside", None, "fewer than 10"), ("All", 1.0, "100%")],
        target=0.8,
    )
    plot = chart.plot_width
    riverside, hillside, total = chart.bars
    assert riverside.segments[0].width == pytest.approx(plot * 0.5)
    assert total.segments[0].width == pytest.approx(plot)
    assert hillside.suppressed and hillside.segments[0].css == "bar-suppressed"
    assert hillside.shown == "fewer than 10"  # the printed value is the table's
    assert chart.target_x == pytest.approx(chart.plot_x + plot * 0.8)
    assert riverside.y < hillside.y < total.y
    assert [t for _, t in chart.ticks] == ["0%", "25%", "50%", "75%", "100%"]


def test_goal_setting_bars_give_never_started_its_own_segment_and_hide_suppressed_rows():
    chart = charts.goal_setting_bars(
        [("A", (0.6, "60%"), (0.3, "30%")), ("B", (None, "fewer than 10"), (0.2, "20%"))],
        agreed_label="Agreed",
        never_label="Never started",
        rest_label="Rest",
    )
    a, b = chart.bars
    assert [s.css for s in a.segments] == ["bar-agreed", "bar-never", "bar-rest"]
    widths = [s.width for s in a.segments]
    assert widths == pytest.approx([chart.plot_width * f for f in (0.6, 0.3, 0.1)])
    assert a.segments[1].x == pytest.approx(a.segments[0].x + widths[0])
    # One suppressed share hides the whole bar: the other could be read off the rest.
    assert b.suppressed and len(b.segments) == 1


def test_trend_chart_breaks_the_line_at_a_suppressed_cycle():
    chart = charts.trend_chart(
        [
            ("c1", 0.2, "20%"),
            ("c2", 0.4, "40%"),
            ("c3", None, "fewer than 10"),
            ("c4", 0.5, "50%"),
            ("c5", 1.0, "100%"),
        ],
        target=0.8,
    )
    assert len(chart.lines) == 2  # c1-c2 and c4-c5; c3 is a gap, not a guess
    assert [p.label for p in chart.points] == ["c1", "c2", "c4", "c5"]
    assert chart.gaps[0][1] == "c3: fewer than 10"
    top, bottom = chart.y_ticks[-1][0], chart.y_ticks[0][0]
    assert chart.points[-1].y == pytest.approx(top)  # 100% at the top
    assert chart.target_y == pytest.approx(bottom + (top - bottom) * 0.8)
    xs = [x for x, _ in chart.x_labels]
    assert xs == sorted(xs) and len(set(xs)) == 5


def test_on_track_is_a_straight_line_from_baseline_to_target():
    set_on, due = today() - timedelta(days=50), today() + timedelta(days=50)
    # Halfway from 40% to 80%: 60% expected today.
    assert progress_toward(0.8, set_on, due, 0.4, 0.61).status == ON_TRACK
    behind = progress_toward(0.8, set_on, due, 0.4, 0.55)
    assert behind.status == OFF_TRACK and behind.expected == pytest.approx(0.6)
    assert progress_toward(0.8, set_on, due, 0.4, 0.85).status == MET
    assert progress_toward(0.8, set_on, due, 0.4, None).status == UNKNOWN
    late = progress_toward(0.8, set_on, today() - timedelta(days=1), 0.4, 0.79)
    assert late.status == OFF_TRACK and late.expected == pytest.approx(0.8)


@pytest.mark.both_backends
def test_program_flags_csv_checks_every_row_then_saves_in_one_go(app, client, auth, make, backend):
    w = _build(make)
    first, second = (db.session.get(User, i) for i in w["learner_ids"][:2])
    far = make.learner(make.school("Far", make.district("Far District")))
    make.commit()
    auth.login(w["people"]["school_admin"])
    bad = (
        "username,ell,iep\n"
        f"{first.username},yes,no\n"
        f"{second.username},maybe,\n"  # not yes/no
        f"{far.username},yes,\n"  # another district's learner
    )
    refused = client.post(
        "/insights/programs",
        data={"file": (io.BytesIO(bad.encode()), "flags.csv")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "Nothing was saved" in text and "maybe" in text
    assert "No learner of your schools has this identifier." in text
    assert db.session.scalar(select(Demographics)) is None  # not even the good row
    good = f"username,ell,iep\n{first.username},yes,no\n{second.username},,yes\n"
    saved = client.post(
        "/insights/programs",
        data={"file": (io.BytesIO(good.encode()), "flags.csv")},
        content_type="multipart/form-data",
    )
    assert saved.status_code == 303  # to the job's progress: the worker writes them
    job_id = int(saved.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert db.session.scalar(select(Demographics)) is None
    db.session.rollback()  # the worker needs the database (SQLite: one writer)
    jobs.run_job(app, job_id)
    assert db.session.get(Job, job_id).state == "done"
    flags = {d.user_id: d.programs for d in db.session.scalars(select(Demographics))}
    assert flags == {first.id: {"ell": "true", "iep": "false"}, second.id: {"iep": "true"}}
    no_key = client.post(
        "/insights/programs",
        data={"file": (io.BytesIO(b"name,ell\nx,yes\n"), "flags.csv")},
        content_type="multipart/form-data",
    )
    assert no_key.status_code == 422
    assert "Add a sourcedId or username column." in no_key.get_data(as_text=True)
