"""Crawl the demo district as one signed-in role, GET only, and collect what went wrong.

Used by tests/test_crawl.py (no 500 anywhere, on both backends) and by
tests/browser/test_crawl_axe.py (which page templates to run axe on).

What is visited, per role:
- every same-origin `<a href>`, `hx-get` and GET-form `action` reachable from `/`
  to depth 3 (BFS), at most `PER_PATTERN` URLs per route pattern and query keys;
- every GET rule of `app.url_map`, filled with ids of objects the role may see
  (taken from the links it was shown, else from the policy module's scopes), and
  with ids of objects the role may NOT see and an id that does not exist: those
  must answer 403 or 404.
Each URL is fetched as a full page and as an htmx request (`HX-Request: true`, the
header `portal.core.web.wants_fragment` picks a page's block by).
"""

from __future__ import annotations

import sys
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

from flask import template_rendered
from sqlalchemy import select
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from portal.core.extensions import db
from portal.core.jobs import Job
from tests.sql_guard import sql_while_rendering

ROLES = [
    "learner",
    "young_learner",
    "teacher",
    "guardian",
    "school_admin",
    "district_admin",
    "pl_specialist",
]
USERNAMES = {
    "learner": "maya.johnson",
    "teacher": "ms.rivera",
    "guardian": "ana.garcia",
    "school_admin": "principal.okafor",
    "district_admin": "supt.lindqvist",
    "pl_specialist": "pl.moreno",
}
YOUNG_LEARNER = ("Leo", "M")  # "Leo M." on the pick-your-name page
MAX_DEPTH = 3
PER_PATTERN = 3  # URLs kept per (route, query keys): more of the same route find nothing new
MAX_URLS = 400  # per role: a safety net, far above what the demo needs
NONEXISTENT_ID = 987654321
# Never followed: they end the session or are not pages of ours.
SKIP_PREFIXES = ("/static/", "/signout", "/language")
VARIANTS = {"page": {}, "htmx": {"HX-Request": "true"}}


@dataclass
class Problem:
    role: str
    url: str
    variant: str
    status: int | None
    detail: str

    def __str__(self) -> str:
        return f"[{self.role}] GET {self.url} ({self.variant}) -> {self.status}\n{self.detail}"


@dataclass
class CrawlResult:
    role: str
    visited: list[str] = field(default_factory=list)  # URLs fetched (each in every variant)
    requests: int = 0
    server_errors: list[Problem] = field(default_factory=list)
    leaks: list[Problem] = field(default_factory=list)  # not-visible ids that did not 403/404
    templates: dict[str, str] = field(default_factory=dict)  # page template -> one 200 URL
    # SQL run while a template rendered: the route should have gathered it (sql_guard).
    render_queries: list[Problem] = field(default_factory=list)
    seconds: float = 0.0


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if attrs.get("hx-get"):
            self.links.append(attrs["hx-get"])
        method = (attrs.get("method") or "get").lower()
        if tag == "form" and method == "get" and attrs.get("action"):
            self.links.append(attrs["action"])


def links_in(html: str, base: str) -> list[str]:
    """Same-origin paths (with query, without #fragment) linked from a page."""
    parser = _Links()
    parser.feed(html)
    found = []
    for link in parser.links:
        parts = urlsplit(urljoin("http://localhost" + base, link))
        if parts.scheme not in ("http", "https") or parts.hostname != "localhost":
            continue
        url = parts.path + (f"?{parts.query}" if parts.query else "")
        if not url.startswith(SKIP_PREFIXES):
            found.append(url)
    return found


def _our_traceback() -> str:
    """The current exception's traceback, only the frames of our code and templates."""
    frames = [
        frame
        for frame in traceback.extract_tb(sys.exc_info()[2])
        if "site-packages" not in frame.filename and not frame.filename.endswith("crawl.py")
    ]
    lines = traceback.format_list(frames)
    return "".join(lines) + "".join(traceback.format_exception_only(*sys.exc_info()[:2]))


# --- Signing in ------------------------------------------------------------------------------


def sign_in(client, role: str, password: str, pin: str, class_code: str) -> int:
    """Sign the test client in as a demo role (CSRF is off in the test config); the user id."""
    from portal.auth.models import User

    if role == "young_learner":
        response = client.post("/signin/class", data={"code": class_code})
        assert response.status_code in (302, 303), response.status_code
        given, initial = YOUNG_LEARNER
        learner_id = db.session.scalar(
            select(User.id).where(User.given_name == given, User.family_name.startswith(initial))
        )
        response = client.post(f"/signin/class/{class_code}/{learner_id}", data={"pin": pin})
        user_id = learner_id
    else:
        response = client.post("/signin", data={"login": USERNAMES[role], "password": password})
        user_id = db.session.scalar(select(User.id).where(User.username == USERNAMES[role]))
    assert response.status_code in (302, 303), (
        f"signing in as {role} failed: {response.status_code} "
        f"{response.get_data(as_text=True)[:300]}"
    )
    return user_id


# --- URL arguments from the data ---------------------------------------------------------------


def _samples(user, rule_args: set[str], visible: bool, limit: int = 2) -> list[dict]:
    """Argument values for a rule: of objects `user` may see, or of ones they may not."""
    from portal import policy
    from portal.auth.models import Role, User
    from portal.conferences.models import Conference
    from portal.goals.models import Goal, GoalTemplate, Strategy
    from portal.profiles.models import ProfileEntry, ProfileSection
    from portal.progress.models import ProgressEntry
    from portal.roster.models import Enrollment, Org, OrgType, SchoolClass
    from portal.rostering.models import RosterImport
    from portal.targets.models import Framework, Target

    def pick(column, condition, *columns):
        where = condition if visible else ~condition
        rows = db.session.execute(
            select(column, *columns).where(where).order_by(column).limit(limit)
        ).all()
        return rows

    # The scopes as id lists: the policy's "nobody" scope is an untyped NULL that
    # PostgreSQL will not compare with an integer column.
    learners = list(db.session.scalars(policy.visible_learner_ids(user)))
    frameworks = list(db.session.scalars(policy.framework_org_ids(user)))

    args = set(rule_args)
    if {"learner_id", "entry_id"} <= args:
        rows = db.session.execute(
            select(ProfileEntry.id, ProfileSection.learner_id)
            .join(ProfileSection, ProfileSection.id == ProfileEntry.section_id)
            .where(
                ProfileSection.learner_id.in_(learners)
                if visible
                else ProfileSection.learner_id.not_in(learners)
            )
            .order_by(ProfileEntry.id)
            .limit(limit)
        ).all()
        return [{"entry_id": e, "learner_id": ln} for e, ln in rows]
    if {"learner_id", "key"} <= args:
        rows = pick(
            ProfileSection.learner_id, ProfileSection.learner_id.in_(learners), ProfileSection.key
        )
        return [{"learner_id": ln, "key": k} for ln, k in rows]
    if {"class_id", "enrollment_id"} <= args:
        condition, params = policy.class_access_sql(user)
        rows = db.session.execute(
            select(Enrollment.id, Enrollment.class_id)
            .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
            .where(condition if visible else ~condition)
            .order_by(Enrollment.id)
            .limit(limit),
            params,
        ).all()
        return [{"enrollment_id": e, "class_id": c} for e, c in rows]
    if args == {"code", "learner_id"}:
        return []  # the PIN page: public, covered by signing in
    if len(args) != 1:
        return []
    (arg,) = args
    if arg == "learner_id":
        column, condition = User.id, User.id.in_(learners) & (User.role == Role.LEARNER)
        if not visible:
            condition = User.id.not_in(learners) & (User.role == Role.LEARNER)
        rows = db.session.execute(select(column).where(condition).order_by(column).limit(limit))
        return [{arg: v} for (v,) in rows]
    if arg == "class_id":
        condition, params = policy.class_access_sql(user)
        if user.role is Role.PL_SPECIALIST:  # their schools' classes: insights, no roster
            condition = SchoolClass.school_id.in_(policy.insights_school_ids(user))
        rows = db.session.execute(
            select(SchoolClass.id)
            .where(condition if visible else ~condition)
            .order_by(SchoolClass.id)
            .limit(limit),
            params,
        )
        return [{arg: v} for (v,) in rows]
    schools = (
        list(db.session.scalars(policy.manageable_school_ids(user)))
        if user.role in (Role.SCHOOL_ADMIN, Role.DISTRICT_ADMIN)
        else list(db.session.scalars(policy.insights_school_ids(user)))
        if user.role is Role.PL_SPECIALIST
        else [user.org_id]
    )
    by_arg = {
        "goal_id": (Goal.id, Goal.learner_id.in_(learners)),
        "conference_id": (Conference.id, Conference.learner_id.in_(learners)),
        "progress_entry_id": (ProgressEntry.id, ProgressEntry.learner_id.in_(learners)),
        "template_id": (GoalTemplate.id, GoalTemplate.teacher_id == user.id),
        "strategy_id": (Strategy.id, Strategy.school_id.in_(schools)),
        "school_id": (Org.id, Org.id.in_(schools) & (Org.type == OrgType.SCHOOL)),
        "framework_id": (Framework.id, Framework.org_id.in_(frameworks)),
        "target_id": (
            Target.id,
            Target.framework_id.in_(
                select(Framework.id).where(Framework.org_id.in_(frameworks))
            ),
        ),
        # Not guardians, district admins or PL specialists: admins also manage some
        # outside their schools.
        "user_id": (
            User.id,
            User.org_id.in_(schools)
            | User.role.in_([Role.GUARDIAN, Role.DISTRICT_ADMIN, Role.PL_SPECIALIST]),
        ),
        "code": (SchoolClass.class_code, SchoolClass.class_code.is_not(None)),
        "job_id": (Job.id, Job.owner_id == user.id),
        "import_id": (
            RosterImport.id,
            RosterImport.scope_org_id.in_(list(db.session.scalars(policy.roster_scope_ids(user)))),
        ),
        # Roster runs the user started (those of a colleague of the same scope are theirs
        # to see too, but the demo has none).
        "run_id": (Job.id, Job.kind.startswith("roster.") & (Job.owner_id == user.id)),
    }
    if arg not in by_arg:
        return []
    column, condition = by_arg[arg]
    if arg == "code" and not visible:
        return []
    return [{arg: v} for (v,) in pick(column, condition)]


# --- The crawl -----------------------------------------------------------------------------------


class Crawler:
    def __init__(self, app, client, role: str, variants: dict = VARIANTS):
        self.app = app
        self.variants = variants
        self.client = client
        self.result = CrawlResult(role)
        self.adapter = app.url_map.bind("localhost")
        self.per_pattern: dict[tuple, int] = {}
        self.seen: set[str] = set()
        self.arg_values: dict[str, list[dict]] = {}  # endpoint -> argument dicts seen in links

    def _pattern(self, url: str) -> tuple | None:
        parts = urlsplit(url)
        try:
            endpoint, args = self.adapter.match(parts.path, method="GET")
        except RequestRedirect as redirect:
            return self._pattern(urlsplit(redirect.new_url).path)
        except HTTPException:
            return ("unrouted", parts.path)
        self.arg_values.setdefault(endpoint, [])
        if args and args not in self.arg_values[endpoint]:
            self.arg_values[endpoint].append(args)
        return (endpoint, tuple(sorted(k for k, _ in parse_qsl(parts.query))))

    def _admit(self, url: str) -> bool:
        if url in self.seen or len(self.seen) >= MAX_URLS:
            return False
        pattern = self._pattern(url)
        if self.per_pattern.get(pattern, 0) >= PER_PATTERN:
            return False
        self.per_pattern[pattern] = self.per_pattern.get(pattern, 0) + 1
        self.seen.add(url)
        return True

    def fetch(self, url: str, expect_denied: bool = False) -> str | None:
        """GET url in every variant; return the full page's HTML when it is one."""
        html = None
        self.result.visited.append(url)
        rendered: list[str] = []

        def record(sender, template, context, **extra):
            rendered.append(template.name)

        for variant, headers in self.variants.items():
            rendered.clear()
            self.result.requests += 1
            with (
                template_rendered.connected_to(record, self.app),
                sql_while_rendering(self.app) as queries,
            ):
                try:
                    response = self.client.get(url, headers=headers)
                except Exception:  # noqa: BLE001 (TESTING propagates a view's exception)
                    self.result.server_errors.append(
                        Problem(self.result.role, url, variant, 500, _our_traceback())
                    )
                    continue
            status = response.status_code
            body = response.get_data(as_text=True)
            if queries:
                detail = "\n".join(f"  {q}" for q in queries[:6])
                more = f"\n  ... and {len(queries) - 6} more" if len(queries) > 6 else ""
                self.result.render_queries.append(
                    Problem(self.result.role, url, variant, status, detail + more)
                )
            # A status outside 100-599 is what a server sends when a view passed a word
            # where a code belongs (render(..., status=...)): a broken page as much as a 500.
            if status >= 500 or status < 100:
                self.result.server_errors.append(
                    Problem(self.result.role, url, variant, status, body[:2000])
                )
                continue
            if expect_denied and status not in (403, 404):
                self.result.leaks.append(
                    Problem(
                        self.result.role, url, variant, status, "expected 403 or 404 (not theirs)"
                    )
                )
            if variant == "page" and status == 200:
                if rendered and not rendered[0].startswith("errors/"):
                    self.result.templates.setdefault(rendered[0], url)
                if response.mimetype == "text/html":
                    html = body
        return html

    def crawl(self, user_id: int) -> CrawlResult:
        started = time.perf_counter()
        queue: deque[tuple[str, int]] = deque([("/", 0)])
        self._admit("/")
        while queue:
            url, depth = queue.popleft()
            html = self.fetch(url)
            if html is None or depth >= MAX_DEPTH:
                continue
            for link in links_in(html, url):
                if self._admit(link):
                    queue.append((link, depth + 1))
        self._crawl_url_map(user_id)
        self.result.seconds = time.perf_counter() - started
        return self.result

    def _crawl_url_map(self, user_id: int) -> None:
        from portal.auth.models import User

        with self.app.app_context():
            user = db.session.get(User, user_id)
            plans: list[tuple[str, bool]] = []
            for rule in self.app.url_map.iter_rules():
                if "GET" not in rule.methods or rule.endpoint == "static":
                    continue
                if rule.rule.startswith(SKIP_PREFIXES):
                    continue
                if not rule.arguments:
                    plans.append((self.adapter.build(rule.endpoint, {}), False))
                    continue
                shown = self.arg_values.get(rule.endpoint, [])
                visible = shown[:1] or _samples(user, rule.arguments, visible=True, limit=1)
                hidden = _samples(user, rule.arguments, visible=False, limit=1)
                missing = [
                    {a: NONEXISTENT_ID if a != "key" else "no-such-section" for a in rule.arguments}
                ]
                for args in visible:
                    plans.append((self.adapter.build(rule.endpoint, args), False))
                for args in hidden + missing:
                    plans.append((self.adapter.build(rule.endpoint, args), True))
            db.session.remove()
        for url, denied in plans:
            if denied:
                if url not in self.seen:
                    self.seen.add(url)
                    self.fetch(url, expect_denied=True)
            elif url not in self.seen:
                self.seen.add(url)
                self.fetch(url)


def crawl_role(
    app, role: str, password: str, pin: str, class_code: str, variants: dict = VARIANTS
) -> CrawlResult:
    """Sign in as `role` in a fresh test client and crawl; the client is then discarded."""
    client = app.test_client()
    with app.app_context():
        user_id = sign_in(client, role, password, pin, class_code)
        db.session.remove()
    result = Crawler(app, client, role, variants).crawl(user_id)
    if not any(p.url == "/" for p in result.server_errors):  # else already reported
        still = client.get("/")
        assert still.status_code == 200, f"{role} was signed out by the crawl ({still.status_code})"
    return result
