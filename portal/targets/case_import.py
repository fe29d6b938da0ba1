"""Import a 1EdTech CASE CFPackage (JSON) as a framework of targets.

Two phases, so a bad package writes nothing: `parse_package` checks the whole file
and builds a plan (raising CaseImportError with every problem it names), then
`apply_package` checks it against the database and writes it (flush only; the
caller commits once). CFItem and CFDocument identifiers are kept, so importing a
newer version of the same package updates rows in place instead of duplicating.

The hierarchy comes from "isChildOf" associations (origin = child, destination =
parent: an item, or the document for the top level). Items with children become
groups; leaves become targets. Family wordings written in the portal are kept.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from flask import has_request_context
from sqlalchemy import select

from portal.core.extensions import db
from portal.core.i18n import gettext
from portal.core.inputs import INT_MAX, INT_MIN, has_forbidden_character
from portal.roster.models import Org
from portal.targets.models import Framework, Target, TargetKind

MAX_ERRORS = 20
IDENTIFIER_MAX = 64
CODE_MAX = 80
TITLE_MAX = 255
ITEM_TYPE_MAX = 80
_DIGITS = re.compile(r"[0-9]+")  # ASCII only: "²".isdigit() is True, int("²") fails


def _(message: str, **params) -> str:
    """Translate in a request; the CLI has no locale, so it gets the English text."""
    return gettext(message, **params) if has_request_context() else message % params


class CaseImportError(Exception):
    """The package cannot be imported; `errors` says what is wrong, one line each."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass
class PlannedItem:
    identifier: str
    statement: str
    code: str | None
    item_type: str | None
    grade_low: int | None
    grade_high: int | None
    index: int  # position in CFItems, for a stable order
    parent: str | None = None  # identifier of the parent item, None = top level
    position: int | None = None
    children: list[str] = field(default_factory=list)

    @property
    def kind(self) -> TargetKind:
        return TargetKind.GROUP if self.children else TargetKind.TARGET


@dataclass
class Package:
    identifier: str
    title: str
    subject: str | None
    version: str | None
    items: dict[str, PlannedItem]  # in CFItems order


@dataclass
class ImportSummary:
    framework: Framework
    framework_created: bool
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    groups: int = 0
    targets: int = 0


class _Errors(list):
    def add(self, message: str) -> None:
        self.append(message)
        if len(self) >= MAX_ERRORS:
            self.append(_("Stopped after %(n)d problems.", n=MAX_ERRORS))
            raise CaseImportError(list(self))


# --- Parse and check the file ------------------------------------------------------


def parse_package(raw: bytes | str) -> Package:
    """Read and check a CFPackage; raise CaseImportError naming every problem found."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise CaseImportError(
                [_("The file is not UTF-8 text, so it cannot be CASE JSON.")]
            ) from None
    try:
        data = json.loads(raw)
    except RecursionError:
        raise CaseImportError(
            [_("The file nests brackets too deeply to be a CASE package.")]
        ) from None
    except json.JSONDecodeError as exc:
        raise CaseImportError(
            [
                _(
                    "The file is not valid JSON (line %(line)d, column %(column)d: %(reason)s).",
                    line=exc.lineno,
                    column=exc.colno,
                    reason=exc.msg,
                )
            ]
        ) from None
    except ValueError:  # a number with thousands of digits: Python refuses to read it
        raise CaseImportError([_("The file holds a number too long to read.")]) from None
    if isinstance(data, dict) and isinstance(data.get("CFPackage"), dict):
        data = data["CFPackage"]
    if not isinstance(data, dict) or not isinstance(data.get("CFDocument"), dict):
        raise CaseImportError([_("The file has no CFDocument object: it is not a CASE CFPackage.")])
    errors = _Errors()
    for where in _unstorable_text(data):
        errors.add(
            _(
                "%(where)s contains a character that is not allowed (NUL or a lone surrogate).",
                where=where,
            )
        )
    if errors:
        raise CaseImportError(list(errors))
    package = _parse(data, errors)
    if errors:
        raise CaseImportError(list(errors))
    return package


def _unstorable_text(data) -> list[str]:
    """Where (as a JSON path) a key or string holds a character no database column takes."""
    found = []
    stack = [("", data)]
    while stack and len(found) < MAX_ERRORS:
        path, value = stack.pop()
        if isinstance(value, str):
            if has_forbidden_character(value):
                found.append(path or "The file")
        elif isinstance(value, dict):
            for key, item in reversed(list(value.items())):
                if has_forbidden_character(key):
                    found.append(f"{path}.{key!a}" if path else f"{key!a}")
                else:
                    stack.append((f"{path}.{key}" if path else key, item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", item) for i, item in reversed(list(enumerate(value))))
    return found


def _text(value) -> str | None:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        text = str(value).strip()
        return text or None
    return None


def _parse(data: dict, errors: _Errors) -> Package:
    document = data["CFDocument"]
    doc_id = _text(document.get("identifier"))
    title = _text(document.get("title"))
    if doc_id is None:
        errors.add(_("CFDocument has no identifier."))
    elif len(doc_id) > IDENTIFIER_MAX:
        errors.add(_("CFDocument identifier is longer than %(n)d characters.", n=IDENTIFIER_MAX))
    if title is None:
        errors.add(_("CFDocument has no title."))
    subject = document.get("subject")
    if isinstance(subject, list):
        subject = ", ".join(s for s in (_text(x) for x in subject) if s)
    subject = (_text(subject) or "")[:120] or None
    version = _text(document.get("version")) or _text(document.get("lastChangeDateTime")) or ""
    items = _parse_items(data.get("CFItems"), errors)
    if doc_id is not None:
        _parse_associations(data.get("CFAssociations"), doc_id, items, errors)
        _check_cycles(items, errors)
    return Package(
        identifier=doc_id or "",
        title=(title or "")[:TITLE_MAX],
        subject=subject,
        version=version[:80] or None,
        items=items,
    )


def _parse_items(raw_items, errors: _Errors) -> dict[str, PlannedItem]:
    if raw_items is None:
        errors.add(_("The package has no CFItems list."))
        return {}
    if not isinstance(raw_items, list):
        errors.add(_("CFItems is not a list."))
        return {}
    items: dict[str, PlannedItem] = {}
    first_seen: dict[str, int] = {}
    for index, raw in enumerate(raw_items):
        item = _parse_item(raw, index, first_seen, errors)
        if item is not None:
            items[item.identifier] = item
    return items


def _parse_item(raw, index: int, first_seen: dict[str, int], errors: _Errors):
    """One CFItem as planned, or None with the reason added to `errors`."""
    where = f"CFItems[{index}]"
    if not isinstance(raw, dict):
        errors.add(_("%(where)s is not an object.", where=where))
        return None
    identifier = _item_identifier(raw, where, index, first_seen, errors)
    if identifier is None:
        return None
    where = f"CFItem {identifier} ({where})"
    statement = _text(raw.get("fullStatement"))
    if statement is None:
        errors.add(_("%(item)s has no fullStatement.", item=where))
        return None
    code = _text(raw.get("humanCodingScheme"))
    if code is not None and len(code) > CODE_MAX:
        errors.add(
            _(
                "%(item)s: humanCodingScheme is longer than %(n)d characters.",
                item=where,
                n=CODE_MAX,
            )
        )
        return None
    position = _int(raw.get("listEnumeration"))
    if position is _OUT_OF_RANGE:
        errors.add(_out_of_range(where, "listEnumeration"))
        return None
    low, high = grade_band(raw.get("educationLevel"))
    return PlannedItem(
        identifier=identifier,
        statement=statement,
        code=code,
        item_type=(_text(raw.get("CFItemType")) or "")[:ITEM_TYPE_MAX] or None,
        grade_low=low,
        grade_high=high,
        index=index,
        position=position,
    )


def _item_identifier(raw: dict, where: str, index: int, first_seen: dict[str, int], errors):
    """The item's identifier if it has a usable one not seen before (and remember it)."""
    identifier = _text(raw.get("identifier"))
    if identifier is None:
        code = _text(raw.get("humanCodingScheme"))
        errors.add(_("%(item)s has no identifier.", item=f"{where} ({code})" if code else where))
        return None
    where = f"CFItem {identifier} ({where})"
    if len(identifier) > IDENTIFIER_MAX:
        errors.add(
            _(
                "%(item)s: identifier is longer than %(n)d characters.",
                item=where,
                n=IDENTIFIER_MAX,
            )
        )
        return None
    if identifier in first_seen:
        errors.add(
            _(
                "%(item)s: the same identifier is also CFItems[%(other)d].",
                item=where,
                other=first_seen[identifier],
            )
        )
        return None
    first_seen[identifier] = index
    return identifier


def _node_id(association: dict, end: str) -> str | None:
    node = association.get(end)
    return _text(node.get("identifier")) if isinstance(node, dict) else None


def _parse_associations(raw, doc_id: str, items: dict[str, PlannedItem], errors: _Errors) -> None:
    if raw is None:
        return
    if not isinstance(raw, list):
        errors.add(_("CFAssociations is not a list."))
        return
    chosen: dict[str, tuple[str | None, int | None]] = {}
    for index, association in enumerate(raw):
        if not isinstance(association, dict):
            errors.add(_("CFAssociations[%(i)d] is not an object.", i=index))
            continue
        if str(association.get("associationType", "")).lower() != "ischildof":
            continue  # exactMatchOf, isRelatedTo, precedes ...: not part of the tree
        ident = _text(association.get("identifier"))
        where = f"CFAssociations[{index}]" + (f" ({ident})" if ident else "")
        child, parent = (
            _node_id(association, "originNodeURI"),
            _node_id(association, "destinationNodeURI"),
        )
        if child is None:
            errors.add(_("%(where)s has no originNodeURI.identifier.", where=where))
        if parent is None:
            errors.add(_("%(where)s has no destinationNodeURI.identifier.", where=where))
        if child is None or parent is None:
            continue
        if child not in items:
            errors.add(
                _(
                    "%(where)s: originNodeURI.identifier %(id)s is not an item of this package.",
                    where=where,
                    id=child,
                )
            )
            continue
        if parent != doc_id and parent not in items:
            errors.add(
                _(
                    "%(where)s: destinationNodeURI.identifier %(id)s is neither the CFDocument "
                    "nor an item of this package.",
                    where=where,
                    id=parent,
                )
            )
            continue
        parent_item = None if parent == doc_id else parent
        sequence = _int(association.get("sequenceNumber"))
        if sequence is _OUT_OF_RANGE:
            errors.add(_out_of_range(where, "sequenceNumber"))
            continue
        if child in chosen and (parent_item is None or chosen[child][0] is not None):
            continue  # an item placed twice: the first item parent wins over the document
        chosen[child] = (parent_item, sequence)
    for child, (parent, sequence) in chosen.items():
        item = items[child]
        item.parent = parent
        if sequence is not None:
            item.position = sequence
        if parent is not None:
            items[parent].children.append(child)


def _check_cycles(items: dict[str, PlannedItem], errors: _Errors) -> None:
    done: set[str] = set()
    for start in items:
        path: list[str] = []
        on_path: set[str] = set()
        current: str | None = start
        while current is not None and current not in done:
            if current in on_path:
                cycle = path[path.index(current) :] + [current]
                errors.add(
                    _(
                        "The isChildOf associations form a loop: %(loop)s.",
                        loop=" → ".join(_describe(items[i]) for i in cycle),
                    )
                )
                break
            path.append(current)
            on_path.add(current)
            current = items[current].parent
        done.update(path)


def _describe(item: PlannedItem) -> str:
    return f"{item.code} ({item.identifier})" if item.code else item.identifier


_OUT_OF_RANGE = object()


def _int(value):
    """A whole number (int or ASCII digits), None if it is none, _OUT_OF_RANGE if too big."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        digits = value.strip().lstrip("0") or "0"
        value = int(digits) if len(digits) <= 12 else INT_MAX + 1  # int() of 5000 digits fails
    if not isinstance(value, int):
        return None
    return value if INT_MIN <= value <= INT_MAX else _OUT_OF_RANGE


def _out_of_range(where: str, name: str) -> str:
    return _(
        "%(where)s: %(field)s is not a number from %(low)d to %(high)d.",
        where=where,
        field=name,
        low=INT_MIN,
        high=INT_MAX,
    )


GRADE_WORDS = {"KG": 0, "K": 0}


def grade_band(levels) -> tuple[int | None, int | None]:
    """CASE educationLevel (["03", "04"], "KG", "09,10") -> (low, high); K = 0."""
    if isinstance(levels, str):
        levels = levels.split(",")
    if not isinstance(levels, list):
        return None, None
    grades = []
    for level in levels:
        text = (_text(level) or "").upper()
        if text in GRADE_WORDS:
            grades.append(GRADE_WORDS[text])
        elif _DIGITS.fullmatch(text) and len(text) <= 3 and int(text) <= 12:
            grades.append(int(text))
    return (min(grades), max(grades)) if grades else (None, None)


# --- Check against the database and write ------------------------------------------


def apply_package(package: Package, org_id: int) -> ImportSummary:
    """Create or update the framework and its targets (flush only); write nothing on error."""
    framework = _framework_for(package, org_id)
    existing = _existing_targets(list(package.items))
    _refuse_targets_of_other_frameworks(existing, framework)
    summary = ImportSummary(framework=framework, framework_created=framework is None)
    if framework is None:
        framework = Framework(org_id=org_id, case_identifier=package.identifier)
        db.session.add(framework)
        summary.framework = framework
    framework.title = package.title
    framework.subject = package.subject
    framework.case_version = package.version
    ident_of = {t.id: t.case_identifier for t in existing.values()}
    before = {
        t.case_identifier: (*_content(t), ident_of.get(t.parent_id, t.parent_id))
        for t in existing.values()
        if t.case_identifier in package.items
    }
    rows = _write_targets(package, framework, existing, summary)
    _link_parents_and_count_changes(package, rows, before, summary)
    db.session.flush()
    return summary


def _framework_for(package: Package, org_id: int) -> Framework | None:
    """The framework imported from this CFDocument before, if any; refused if another org's."""
    framework = db.session.scalar(
        select(Framework).where(Framework.case_identifier == package.identifier)
    )
    if framework is not None and framework.org_id != org_id:
        owner = db.session.get(Org, framework.org_id)
        raise CaseImportError(
            [
                _(
                    "This CFDocument (%(id)s) was already imported as “%(title)s” for %(org)s. "
                    "Import it for %(org)s to update it.",
                    id=package.identifier,
                    title=framework.title,
                    org=owner.name if owner else "?",
                )
            ]
        )
    return framework


def _refuse_targets_of_other_frameworks(
    existing: dict[str, Target], framework: Framework | None
) -> None:
    elsewhere = [
        t for t in existing.values() if framework is None or t.framework_id != framework.id
    ]
    if elsewhere:
        errors = [
            _(
                "CFItem %(id)s is already a target of another framework (%(code)s).",
                id=t.case_identifier,
                code=t.code or t.statement[:40],
            )
            for t in elsewhere[:MAX_ERRORS]
        ]
        raise CaseImportError(errors)


def _write_targets(
    package: Package, framework: Framework, existing: dict[str, Target], summary: ImportSummary
) -> dict[str, Target]:
    """Each item's target, new or updated in place (parents are linked afterwards)."""
    rows: dict[str, Target] = {}
    for item in package.items.values():
        target = existing.get(item.identifier)
        if target is None:
            target = Target(case_identifier=item.identifier, framework=framework)
            db.session.add(target)
            summary.created += 1
        target.kind = item.kind
        target.code = item.code
        target.statement = item.statement
        target.item_type = item.item_type
        target.grade_low, target.grade_high = _grades(item, package.items)
        target.position = item.position if item.position is not None else item.index + 1
        rows[item.identifier] = target
        if item.kind is TargetKind.GROUP:
            summary.groups += 1
        else:
            summary.targets += 1
    return rows


def _link_parents_and_count_changes(
    package: Package, rows: dict[str, Target], before: dict[str, tuple], summary: ImportSummary
) -> None:
    for item in package.items.values():
        target = rows[item.identifier]
        target.parent = rows[item.parent] if item.parent is not None else None
        if item.identifier in before:
            after = (*_content(target), item.parent)
            if after == before[item.identifier]:
                summary.unchanged += 1
            else:
                summary.updated += 1


def import_case(raw: bytes | str, org_id: int) -> ImportSummary:
    """Parse, check and write a CFPackage for an org; CaseImportError if anything is wrong."""
    return apply_package(parse_package(raw), org_id)


def _content(target: Target) -> tuple:
    return (
        target.kind,
        target.code,
        target.statement,
        target.item_type,
        target.grade_low,
        target.grade_high,
        target.position,
    )


def _grades(item: PlannedItem, items: dict[str, PlannedItem]) -> tuple[int | None, int | None]:
    """An item without educationLevel takes its nearest ancestor's band."""
    current: PlannedItem | None = item
    while current is not None:
        if current.grade_low is not None:
            return current.grade_low, current.grade_high
        current = items[current.parent] if current.parent is not None else None
    return None, None


def _existing_targets(identifiers: list[str]) -> dict[str, Target]:
    found: dict[str, Target] = {}
    for start in range(0, len(identifiers), 500):
        chunk = identifiers[start : start + 500]
        for target in db.session.scalars(select(Target).where(Target.case_identifier.in_(chunk))):
            found[target.case_identifier] = target
    return found
