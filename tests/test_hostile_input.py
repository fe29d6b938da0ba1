"""No input produces a 500: hostile values in every field of every POST route, both backends.

For each POST rule of the real `app.url_map` (so new routes are covered the moment they
exist), the test builds objects the caller may act on (the policy matrix's factories),
signs in a permitted user and finds the route's fields two ways: the names the route
itself reads from the request (observed while it handles a probe), and the inputs of
the form on the rule's own page. Then each field gets each hostile value while the
others keep valid values. Every answer must be below 500, and an answer of 4xx must
leave the database as it was: the same row count in every table and no committed
INSERT, UPDATE or DELETE.
"""

from __future__ import annotations

import io
import json
import re
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from sqlalchemy import event, text
from werkzeug.datastructures import MultiDict

from portal.auth.models import Role
from portal.core import inputs
from portal.core.extensions import db
from portal.core.timeutil import today
from tests.fixtures import progress as progress
from tests.fixtures.factories import Factory
from tests.test_policy_matrix import OTHER_ARGS, OUT_OF_REACH, Outside, build_outside

# Sent as its surrogatepass UTF-8 bytes (%ED%A0%80), as a raw client could: werkzeug
# keeps undecodable form bytes as literal text, so a lone surrogate reaches the app only
# through JSON (a CASE file; see tests/test_case_import.py), which is checked there.
SURROGATE = "\ud800"
HOSTILE: dict[str, object] = {
    "nul": "maya\x00",
    "30 nines": "9" * 30,
    "2**63": str(2**63),
    "-1": "-1",
    "0": "0",
    "100k characters": "x" * 100_000,
    "lone surrogate": f"a{SURROGATE}b",
    "rtl override": "\u202eevil\u202c",
    "list": ["a", "b"],
    "file": "FILE",
    "empty": "",
    # The whole body as JSON (Flask-WTF would read it as form data): an object where
    # text belongs, and 100,000 nested brackets.
    "json object": "JSON_OBJECT",
    "json 100k brackets": "JSON_DEEP",
}
# Every field meets these two (PostgreSQL refuses NUL in text; every number column
# overflows); the other values are dealt round the route's fields so that each route
# meets every value and each field at least one more. The full cross product would
# take minutes per backend for little more.
CORE = ("nul", "30 nines")
REST = tuple(label for label in HOSTILE if label not in CORE)


def values_for(names: list[str]) -> list[tuple[str, str]]:
    """(field, value label) pairs to send for a route with these fields."""
    pairs = [(name, label) for name in names for label in CORE]
    for i in range(max(len(names), len(REST))):
        pairs.append((names[i % len(names)], REST[i % len(REST)]))
    return pairs


# The role to try first for a route that several roles may call: the widest reach first.
ROLE_ORDER = ("district_admin", "teacher", "learner", "guardian", "school_admin")
# Arguments of URLs that are neither object ids nor in OTHER_ARGS.
URL_ARGS = {"key": lambda outside: "about"}
# The matrix's factories, except where a route needs a fuller object to act on: a goal
# with its first version, as every real goal has.
ID_FACTORIES = {
    **OUT_OF_REACH,
    "goal_id": lambda outside: progress.goal(outside.make, outside.learner).id,
    # A PL specialist of the callers' district (its district admin assigns their schools).
    "specialist_id": lambda outside: outside.make.user(
        Role.PL_SPECIALIST, outside.make.default_district()
    ).id,
}
# Refusals that rightly write: a failed invite code counts towards its throttle.
# and so does a wrong PIN typed on the teacher's screen.
REFUSAL_WRITES = {
    "family.redeem": {"family_invite_throttles"},
    "conferences.sign_for_learner": {"login_failures"},  # a wrong PIN is counted
    "badges.sign_in": {"login_failures"},  # a refused badge is counted like a wrong PIN
}
SKIP_FIELDS = {"csrf_token", "_probe"}
LAST_RESORT = "cannot be stored. Nothing was saved."  # portal/core/errors.py, for DataError


@dataclass
class Finding:
    endpoint: str
    url: str
    field: str
    value: str
    problem: str


@dataclass
class Tally:
    routes: int = 0
    fields: int = 0
    requests: int = 0
    unreached: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    by_status: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    by_value: dict[str, dict[int, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )


# --- Which names a route reads: record every lookup in request.form / args / files ---


@contextmanager
def recording_lookups():
    seen: list[str] = []
    cls = inputs.BoundedArgs
    originals = {
        name: getattr(cls, name) for name in ("__contains__", "get", "getlist", "__getitem__")
    }

    def wrap(name):
        original = originals[name]

        def recorder(self, key, *args, **kwargs):
            if isinstance(key, str):
                seen.append(key)
            return original(self, key, *args, **kwargs)

        return recorder

    for name in originals:
        setattr(cls, name, wrap(name))
    try:
        yield seen
    finally:
        for name, original in originals.items():
            setattr(cls, name, original)


# --- Which fields a page's form has, with their current (valid) values ---------------


class _FormParser(HTMLParser):
    """The fields of the forms on a page posting to `action`, with their default values."""

    def __init__(self, action: str):
        super().__init__(convert_charrefs=True)
        self.action = action
        self.in_form = False
        self.values: MultiDict = MultiDict()
        self.names: list[str] = []
        self._textarea: str | None = None
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.in_form = (a.get("action") or self.action) == self.action
            return
        if not self.in_form:
            return
        name = a.get("name")
        if tag == "input" and name:
            self._add_name(name)
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.values.add(name, a.get("value") or "y")
            elif kind not in ("submit", "button", "file", "reset"):
                self.values.add(name, a.get("value") or "")
        elif tag == "textarea" and name:
            self._add_name(name)
            self._textarea = name
            self.values.add(name, "")
        elif tag == "select" and name:
            self._add_name(name)
            self._select, self._select_first, self._select_chosen = name, None, False
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in a:
                self.values.add(self._select, value)
                self._select_chosen = True
        elif tag == "button" and name:
            self._add_name(name)

    def handle_data(self, data):
        if self._textarea:
            values = self.values.getlist(self._textarea)
            values[-1] += data
            self.values.setlist(self._textarea, values)

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select" and self._select:
            if not self._select_chosen and self._select_first:
                self.values.add(self._select, self._select_first)
            self._select = None

    def _add_name(self, name):
        if name not in self.names:
            self.names.append(name)


def form_on_page(client, url: str) -> tuple[list[str], MultiDict]:
    response = send(client, "GET", url)
    if response.status_code != 200 or "html" not in response.content_type:
        return [], MultiDict()
    parser = _FormParser(url)
    parser.feed(response.get_data(as_text=True))
    return parser.names, parser.values


def default_value(name: str) -> str:
    """A plausible valid value for a field no page showed us."""
    low = name.lower()
    if "date" in low or low.endswith("day"):
        return (today() + timedelta(days=7)).isoformat()
    if "time" in low:
        return "10:00"
    if low.endswith("_id") or low in ("version", "lock_version", "learner", "level"):
        return "1"
    return "I can add fractions with unlike denominators."


# --- The database before and after: row counts and committed writes -----------------


class WriteWatch:
    """Row counts of every table, and the INSERT/UPDATE/DELETE statements committed."""

    DML = re.compile(r"^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.IGNORECASE)

    def __init__(self, engine):
        self.engine = engine
        self.pending: list[str] = []
        self.committed: list[str] = []
        tables = [t.name for t in db.metadata.sorted_tables]
        counts = ", ".join(f'(SELECT count(*) FROM "{name}")' for name in tables)  # noqa: S608
        self.count_sql = text(f"SELECT {counts}")
        self.tables = tables
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "rollback", self._rollback)

    def close(self):
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)
        event.remove(self.engine, "rollback", self._rollback)

    def _statement(self, conn, cursor, statement, parameters, context, executemany):
        match = self.DML.match(statement)
        if match:
            self.pending.append(match.group(2))

    def _commit(self, conn):
        self.committed += self.pending
        self.pending = []

    def _rollback(self, conn):
        self.pending = []

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            row = conn.execute(self.count_sql).one()
        return dict(zip(self.tables, row, strict=True))

    def start(self) -> dict[str, int]:
        before = self.counts()
        self.pending, self.committed = [], []
        return before


# --- Building each route's world ------------------------------------------------------


def in_reach(make: Factory, outside: Outside) -> dict[str, object]:
    """A permitted caller of each role for the objects the OUT_OF_REACH factories build."""
    guardian = make.guardian()
    make.link(guardian, outside.learner)
    return {
        "learner": outside.learner,
        "teacher": outside.teacher,
        "guardian": guardian,
        "school_admin": make.school_admin(outside.school),
        "district_admin": make.district_admin(make.default_district()),
    }


def url_for_rule(rule, outside: Outside) -> str:
    values = {}
    for name, converter in rule._converters.items():
        if name in ID_FACTORIES and type(converter).__name__ == "IntegerConverter":
            values[name] = ID_FACTORIES[name](outside)
        elif name in OTHER_ARGS:
            values[name] = OTHER_ARGS[name](outside)
        elif name in URL_ARGS:
            values[name] = URL_ARGS[name](outside)
        else:
            values[name] = 1 if type(converter).__name__ == "IntegerConverter" else "x"
    return rule.build(values, append_unknown=False)[1]


class Crash:
    """What a request that raised (a 500 in production; TESTING propagates it) answered."""

    status_code = 500
    content_type = ""

    def __init__(self, exc: BaseException):
        self.exc = exc


def send(client, method: str, url: str, **kwargs):
    """One request; then end its session as the app's teardown would (the test's app
    context is the requests' too, so nothing else would) before the database is read."""
    try:
        return client.open(url, method=method, **kwargs)
    except Exception as exc:  # noqa: BLE001  (any exception is the finding)
        return Crash(exc)
    finally:
        db.session.remove()


def problem_of(response) -> str:
    if isinstance(response, Crash):
        return f"500: {type(response.exc).__name__}: {str(response.exc)[:300]}"
    return str(response.status_code)


def sign_in(app, username: str):
    client = app.test_client()
    response = send(
        client, "POST", "/signin", data={"login": username, "password": Factory.PASSWORD}
    )
    assert response.status_code == 303, response.status_code
    return client


def post_rules(app):
    rules = [r for r in app.url_map.iter_rules() if "POST" in r.methods]
    return sorted(rules, key=lambda r: r.rule)


def roles_of(view) -> list[str]:
    if view.access == "public":
        return ["public"]
    allowed = {role.value for role in view.access[1]}
    return [role for role in ROLE_ORDER if role in allowed]


# --- Sending a hostile value ----------------------------------------------------------


def body_with(baseline: MultiDict, name: str, value) -> dict:
    """Keyword arguments for client.post: the baseline with `name` set to the value."""
    data = MultiDict(baseline)
    data.poplist(name)
    if value == "JSON_OBJECT":
        body = {**data.to_dict(), name: {"x": [1, None]}}
        return {"data": json.dumps(body), "content_type": "application/json"}
    if value == "JSON_DEEP":
        return {"data": "[" * 100_000 + "]" * 100_000, "content_type": "application/json"}
    if value == "FILE":
        pairs = dict(data.lists())
        pairs[name] = (io.BytesIO(b"not text \x00\xff"), "hostile.txt")
        return {"data": pairs, "content_type": "multipart/form-data"}
    for item in value if isinstance(value, list) else [value]:
        data.add(name, item)
    # werkzeug's test client cannot encode a lone surrogate; a raw client can send its bytes.
    raw = urlencode(list(data.items(multi=True)), encoding="utf-8", errors="surrogatepass")
    return {"data": raw, "content_type": "application/x-www-form-urlencoded"}


def reach(app, make, tally: Tally, rule, view, method: str):
    """Build a world for the rule, sign in a caller it lets through, and probe it.

    Returns (client, url, names the route read while answering the probe), or None when
    no permitted role got past the loader (recorded as unreached).
    """
    make._district = make._school = make._term = None  # a world of its own for each route
    outside = build_outside(make)
    for school in (outside.school, outside.other_school):
        progress.scale(make, school)  # GET pages may not create one (a finding of its own)
    callers = in_reach(make, outside)
    url = url_for_rule(rule, outside)
    make.commit()
    usernames = {role: user.username for role, user in callers.items()}
    db.session.commit()  # hold no transaction (nor SQLite lock) while the app answers
    endpoint = rule.endpoint

    for role in roles_of(view):
        client = app.test_client() if role == "public" else sign_in(app, usernames[role])
        with recording_lookups() as observed:
            probe = send(client, method, url, data={"_probe": "1"} if method == "POST" else None)
        if probe.status_code >= 500:
            tally.findings.append(Finding(endpoint, url, "-", "probe", problem_of(probe)))
        if probe.status_code not in (403, 404):
            return client, url, observed
    tally.unreached.append(f"{method} {endpoint} {url}")
    return None


def exercise(app, make, tally: Tally, rule, view) -> None:
    reached = reach(app, make, tally, rule, view, "POST")
    if reached is None:
        return
    client, url, observed = reached
    endpoint = rule.endpoint

    page_names, baseline = form_on_page(client, url) if "GET" in rule.methods else ([], {})
    baseline = MultiDict(baseline)
    names = [n for n in dict.fromkeys([*page_names, *observed]) if n not in SKIP_FIELDS]
    for name in names:
        if name not in baseline:
            baseline.add(name, default_value(name))
    tally.routes += 1
    tally.fields += len(names)

    watch = WriteWatch(db.engine)
    try:
        for name, label in values_for(names) if names else []:
            before = watch.start()
            response = send(client, "POST", url, **body_with(baseline, name, HOSTILE[label]))
            tally.requests += 1
            tally.by_status[response.status_code] += 1
            tally.by_value[label][response.status_code] += 1
            problem = judge(response, endpoint, before, watch)
            if problem:
                tally.findings.append(Finding(endpoint, url, name, label, problem))
    finally:
        watch.close()


def judge(response, endpoint: str, before: dict[str, int], watch: WriteWatch) -> str | None:
    """What is wrong with this answer: a 500, or a refusal that wrote."""
    status = response.status_code
    if status >= 500:
        return problem_of(response)
    if status < 400:
        return None
    if LAST_RESORT in response.get_data(as_text=True):
        return f"{status} from the last-resort DataError handler: an input check is missing"
    after = watch.counts()
    allowed = REFUSAL_WRITES.get(endpoint, set())
    changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
    changed = {t: counts for t, counts in changed.items() if t not in allowed}
    written = set(watch.committed) - allowed
    if changed or written:
        return f"{status} but wrote {changed or sorted(written)}"
    return None


@pytest.mark.both_backends
def test_no_input_produces_a_500_or_a_partial_write(app, make, backend, capsys):
    started = time.monotonic()
    tally = Tally()
    for rule in post_rules(app):
        exercise(app, make, tally, rule, app.view_functions[rule.endpoint])
        db.session.rollback()
    elapsed = time.monotonic() - started
    with capsys.disabled():
        print(
            f"\n[{backend}] hostile input: {tally.routes} POST routes, {tally.fields} fields, "
            f"{len(HOSTILE)} values: {tally.requests} requests in {elapsed:.1f} s; "
            f"answers {dict(sorted(tally.by_status.items()))}"
        )
        for label, answers in tally.by_value.items():
            print(f"[{backend}]   {label}: {dict(sorted(answers.items()))}")
        if tally.unreached:
            print(f"[{backend}] no object in reach for: {tally.unreached}")
    problems = [
        f"{f.endpoint} {f.url} field={f.field!r} value={f.value}: {f.problem}"
        for f in tally.findings
    ]
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
    assert not tally.unreached, tally.unreached


# --- The examples, one by one ---------------------------------------------------


@pytest.mark.both_backends
@pytest.mark.parametrize(
    "goal_id", ["99999999999999999999999", "2147483648", str(2**63), "0", "-1", "٣"]
)
def test_ids_out_of_range_in_urls_are_not_found(client, auth, make, backend, goal_id):
    learner = make.learner()
    make.commit()
    auth.login(learner)
    assert client.get(f"/goals/{goal_id}").status_code == 404
    assert client.post(f"/goals/{goal_id}/edit", data={"statement": "x"}).status_code == 404


def test_the_id_converter_bounds_ids_to_integer():
    converter = inputs.IntegerConverter(None)
    assert converter.to_python("2147483647") == 2**31 - 1
    for value in ("2147483648", "0", "٣"):
        with pytest.raises(inputs.ValidationError):
            converter.to_python(value)


@pytest.mark.both_backends
def test_nul_in_the_sign_in_form_is_a_message_not_a_500(client, make, backend):
    learner = make.learner()
    make.commit()
    watch = WriteWatch(db.engine)
    before = watch.start()
    try:
        data = {"login": f"{learner.username}\x00", "password": "whatever"}
        response = send(client, "POST", "/signin", data=data)
        body = response.get_data(as_text=True)
        assert response.status_code == 422
        assert "This field contains a character that is not allowed." in body
        assert "\x00" not in body
        assert watch.counts() == before and not watch.committed
    finally:
        watch.close()


@pytest.mark.both_backends
@pytest.mark.parametrize("value", [str(2**70), "9" * 30])
def test_numbers_no_column_holds_are_refused_by_the_form(client, auth, make, backend, value):
    """An IntegerField (the conference cycle) with a number beyond INTEGER: a message."""
    admin = make.school_admin()
    make.commit()
    auth.login(admin)
    response = client.post(
        f"/schools/{admin.org_id}/conference-settings", data={"cycle_days": value}
    )
    assert response.status_code == 422
    assert "That number is too large." in response.get_data(as_text=True)


@pytest.mark.both_backends
@pytest.mark.parametrize(
    "query", ["q=maya%00", "template=" + str(2**70), "targets=%C2%B2", "from_goal=" + "9" * 30]
)
def test_query_strings_with_unstorable_values_are_not_a_500(client, auth, make, backend, query):
    learner = make.learner()
    progress.scale(make, make.default_school())
    make.commit()
    auth.login(learner)
    response = client.get(f"/goals/new?{query}")
    assert response.status_code in (200, 400), response.status_code
    if "%00" in query:
        assert response.status_code == 400
        assert "contains a character that is not allowed" in response.get_data(as_text=True)


def test_a_nul_in_a_url_segment_matches_no_page(client):
    assert client.get("/signin/class/AB%00CD").status_code == 404


def test_a_value_the_database_refuses_is_rolled_back_and_answered_400(app, client, make):
    """The last resort behind the input checks: nothing kept, a message, no 500."""
    from sqlalchemy.exc import DataError

    from portal.roster.models import Org

    def refuse():
        db.session.add(Org(name="Half written", type=make.default_district().type))
        db.session.flush()
        raise DataError("INSERT ...", {}, Exception("value out of range"))

    app.add_url_rule("/_test/refuse", "refuse", refuse, methods=["POST"])
    before = db.session.query(Org).count()
    db.session.commit()
    response = client.post("/_test/refuse")
    assert response.status_code == 400
    assert "cannot be stored. Nothing was saved." in response.get_data(as_text=True)
    db.session.remove()
    assert db.session.query(Org).count() == before


@pytest.mark.both_backends
def test_a_nul_in_the_progress_token_is_not_looked_up(client, auth, make, backend):
    """The retry lookup read the raw token before the form checked it (PostgreSQL: 500)."""
    learner = make.learner()
    progress.scale(make, make.default_school())
    goal = progress.goal(make, learner)
    make.commit()
    auth.login(learner)
    response = send(client, "POST", f"/goals/{goal.id}/progress", data={"token": "maya\x00"})
    assert response.status_code == 422
    assert LAST_RESORT not in response.get_data(as_text=True)


# --- Query strings of GET pages ---------------------------------------------------------

# Each value goes into every query argument the page reads at once: ids, page numbers,
# filters, search terms. A NUL anywhere is a 400 with a message (portal/core/inputs.py).
QUERY_HOSTILE = {
    "nul": "maya\x00",
    "30 nines": "9" * 30,
    "2**63": str(2**63),
    "superscript": "²",
    "-1": "-1",
    "list": ["a", "b"],
    "10k characters": "x" * 10_000,
}


@pytest.mark.both_backends
def test_no_query_string_produces_a_500(app, make, backend, capsys):
    tally = Tally()
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        reached = reach(app, make, tally, rule, app.view_functions[rule.endpoint], "GET")
        db.session.rollback()
        if reached is None:
            continue
        client, url, observed = reached
        names = [n for n in dict.fromkeys(observed) if n not in SKIP_FIELDS]
        if not names:
            continue
        tally.routes += 1
        tally.fields += len(names)
        for label, value in QUERY_HOSTILE.items():
            query = urlencode(
                [(n, v) for n in names for v in (value if isinstance(value, list) else [value])]
            )
            response = send(client, "GET", f"{url}?{query}")
            tally.requests += 1
            tally.by_status[response.status_code] += 1
            if response.status_code >= 500:
                tally.findings.append(
                    Finding(rule.endpoint, url, ",".join(names), label, problem_of(response))
                )
            elif label == "nul" and response.status_code != 400:
                tally.findings.append(
                    Finding(
                        rule.endpoint,
                        url,
                        ",".join(names),
                        label,
                        f"{response.status_code}, not 400",
                    )
                )
    with capsys.disabled():
        print(
            f"\n[{backend}] hostile query strings: {tally.routes} GET routes reading "
            f"{tally.fields} arguments, {len(QUERY_HOSTILE)} values: {tally.requests} requests; "
            f"answers {dict(sorted(tally.by_status.items()))}"
        )
    problems = [
        f"{f.endpoint} {f.url} args={f.field} value={f.value}: {f.problem}" for f in tally.findings
    ]
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


def test_the_live_panel_opened_directly_shows_the_whole_workspace(client, auth, make):
    """Found by the sweep (and the crawl): outside htmx, /live rendered the page without
    its forms (500). Opened directly it now sends to the workspace, which renders."""
    from portal.conferences import scheduling
    from portal.core.timeutil import utcnow

    teacher = make.teacher()
    learner = make.learner()
    make.school_class(teacher=teacher, learners=[learner])
    progress.scale(make, make.default_school())
    conference = scheduling.schedule(learner, teacher, utcnow())[0]
    make.commit()
    auth.login(teacher)
    response = send(client, "GET", f"/conferences/{conference.id}/live")
    assert response.status_code == 303, problem_of(response)
    assert response.headers["Location"].endswith(f"/conferences/{conference.id}")
    assert client.get(response.headers["Location"]).status_code == 200


@pytest.mark.both_backends
@pytest.mark.parametrize(
    "body", ['{"login": {"a": 1}, "password": 7}', "[" * 100_000 + "]" * 100_000, "[1, 2]"]
)
def test_a_json_body_is_refused_not_read_as_a_form(client, backend, body):
    """Signed out, /signin with JSON was a 500 (dict.strip, len(int), RecursionError)."""
    response = send(client, "POST", "/signin", data=body, content_type="application/json")
    assert response.status_code == 415, problem_of(response)
    assert "takes what its form sends" in response.get_data(as_text=True)
