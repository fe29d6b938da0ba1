"""Spanish: every message a family sees is translated, and the pages really render in Spanish.

Fails when a family-facing or shared template (layout, sign-in, errors, the family
pages and what they include) uses a message with no Spanish translation or a fuzzy
one, and when a page rendered in Spanish still shows one of those English messages.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from portal.extensions import babel, db
from tests import test_family_support as fam

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "portal" / "translations" / "es" / "LC_MESSAGES" / "messages.po"
TEMPLATES = ROOT / "templates"

# What a family (or anyone signing in) sees: the layout, sign-in, errors, the family
# pages and the partials they include.
FAMILY_TEMPLATES = [
    "base.html",
    "_nav_links.html",
    "_language_switch.html",
    "macros/forms.html",
    "auth/*.html",
    "errors/*.html",
    "home/family.html",
    "family/*.html",
    "progress/_tracker.html",
    # A guardian may open a goal's progress page: the shared entries and family feedback.
    "progress/goal.html",
    "progress/_entry.html",
    "progress/_feedback.html",
    "progress/_share_toggle.html",
    "profiles/_family_sections.html",
    "profiles/_entry.html",
    "conferences/_family_notes.html",
    "conferences/_acknowledge.html",
    "conferences/_steps.html",
]
FAMILY_PYTHON = [
    "portal/family/*.py",
    "portal/auth/forms.py",
    "portal/auth/routes.py",
    "portal/errors.py",
    "portal/progress/tracker.py",
    "portal/progress/mastery.py",
    "portal/profiles/prompts.py",
]
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "_l": None,
    "lazy_gettext": None,
    "N_": None,
}


def _files(patterns, base: Path) -> list[Path]:
    found = sorted({p for pattern in patterns for p in base.glob(pattern)})
    assert found, patterns
    return found


def family_msgids() -> dict[object, str]:
    """Every message used by the family-facing files, with where it is used."""
    found: dict[object, str] = {}
    for path in _files(FAMILY_TEMPLATES, TEMPLATES):
        for lineno, msgid, _c, _ctx in extract_from_file(
            "jinja2", str(path), keywords=KEYWORDS, options={"extensions": "jinja2.ext.do"}
        ):
            found.setdefault(msgid, f"{path.relative_to(ROOT)}:{lineno}")
    for path in _files(FAMILY_PYTHON, ROOT):
        for lineno, msgid, _c, _ctx in extract_from_file("python", str(path), keywords=KEYWORDS):
            found.setdefault(msgid, f"{path.relative_to(ROOT)}:{lineno}")
    return found


@pytest.fixture(scope="module")
def catalog():
    with PO.open("rb") as fh:
        return read_po(fh, locale="es")


def _translated(message) -> bool:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return bool(strings) and all(s.strip() for s in strings) and not message.fuzzy


def test_every_family_facing_message_has_a_spanish_translation(catalog):
    used = family_msgids()
    assert len(used) > 100  # the extraction really found the messages
    problems = []
    for msgid, where in used.items():
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        message = catalog.get(key)
        if message is None:
            problems.append(f"{where}: {key!r} is not in messages.po (re-extract and update)")
        elif not _translated(message):
            problems.append(f"{where}: {key!r} has no Spanish translation (or it is fuzzy)")
    assert not problems, "\n".join(problems)


def test_translations_keep_their_placeholders(catalog):
    problems = [
        f"{message.id!r}: {error}"
        for message, errors in catalog.check()
        for error in errors
        if message.string
    ]
    assert not problems, problems


# --- Rendering in Spanish --------------------------------------------------------------


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """The catalog compiled now, so the test never reads a stale or missing .mo file."""
    out = tmp_path_factory.mktemp("translations")
    target = out / "es" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="es")
    with (target / "messages.mo").open("wb") as fh:
        write_mo(fh, catalog)
    return out


@pytest.fixture
def app_config(app_config, compiled):
    return {**app_config, "BABEL_TRANSLATION_DIRECTORIES": str(compiled)}


@pytest.fixture(autouse=True)
def fresh_translations():
    """Flask-Babel keeps loaded catalogs on the one global Babel object, shared by every
    app in the process: forget what earlier tests loaded from another directory."""
    babel.domain_instance.cache.clear()
    yield
    babel.domain_instance.cache.clear()


def english_ui_strings(catalog) -> list[str]:
    """Family-facing English messages whose Spanish differs: none may show on a Spanish page."""
    out = []
    for msgid in family_msgids():
        if isinstance(msgid, tuple) or "%" in msgid or len(msgid) < 8:
            continue
        message = catalog.get(msgid)
        if message is not None and message.string and message.string != msgid:
            out.append(msgid)
    return out


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _assert_spanish(page: str, english: list[str], where: str) -> None:
    assert '<html lang="es">' in page, where
    shown = [s for s in english if re.search(rf"(?<![\w]){re.escape(s)}(?![\w])", page)]
    assert not shown, f"{where} still shows English: {shown}"


def test_family_pages_render_in_spanish(client, auth, make, catalog):
    family = fam.build_family(make)
    family.guardian.locale = "es"
    db.session.commit()
    english = english_ui_strings(catalog)
    assert "Sign in to Waypoint" in english and "Send cheer" in english

    signin = _text(client.get("/signin", headers={"Accept-Language": "es"}))
    _assert_spanish(signin, english, "sign-in")
    assert "Entrar en Waypoint" in signin
    _assert_spanish(
        _text(client.get("/signin/class", headers={"Accept-Language": "es"})), english, "class code"
    )

    auth.login(family.guardian)
    home = _text(client.get("/"))
    _assert_spanish(home, english, "guardian home")
    assert "Mi familia" in home and "Enviar ánimo" in home
    child = _text(client.get(f"/family/children/{family.maya.id}"))
    _assert_spanish(child, english, "child page")
    assert "Pregúntele a Maya sobre" in child and "En palabras sencillas" in child
    assert "Grado 7" in child
    _assert_spanish(_text(client.get("/family/redeem")), english, "redeem")
    bad = _text(
        client.post(
            f"/family/goals/{family.goal.id}/cheers", data={f"g{family.goal.id}-body": "www.x.com"}
        )
    )
    _assert_spanish(bad, english, "cheer error")
    assert "no ponga direcciones web" in bad
    missing = client.get("/family/children/999999")
    assert missing.status_code == 404
    _assert_spanish(_text(missing), english, "404 page")
    assert "No encontramos esa página." in _text(missing)
    fragment = _text(client.get(f"/family/children/{family.leo.id}", headers=fam.HX))
    assert "<html" not in fragment and "En qué está trabajando Leo" in fragment


def test_dates_are_localised(client, auth, make):
    family = fam.build_family(make)
    family.guardian.locale = "es"
    db.session.commit()
    auth.login(family.guardian)
    page = _text(client.get(f"/family/children/{family.maya.id}"))
    months = "ene|feb|mar|abr|may|jun|jul|ago|sept?|oct|nov|dic"
    assert re.search(rf"\b\d{{1,2}} (?:{months}) \d{{4}}\b", page)


def test_language_switch_is_remembered_for_the_account(client, auth, make):
    guardian = make.guardian()
    make.commit()
    auth.login(guardian)
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)
    client.post("/language", data={"locale": "es", "next": "/"})
    assert '<html lang="es">' in client.get("/").get_data(as_text=True)
    db.session.refresh(guardian)
    assert guardian.locale == "es"
