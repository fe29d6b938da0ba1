"""CASE import: a real-shaped package becomes a tree; re-imports update; bad files write nothing."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.core.extensions import db
from portal.targets.case_import import CaseImportError, grade_band, import_case, parse_package
from portal.targets.models import Framework, Target, TargetKind

PACKAGE_PATH = Path(__file__).parent / "data" / "case" / "math_grade4.json"
HX = {"HX-Request": "true"}


@pytest.fixture
def package() -> dict:
    return json.loads(PACKAGE_PATH.read_text(encoding="utf-8"))


def by_code(code: str) -> Target:
    return db.session.scalar(select(Target).where(Target.code == code))


def counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count(Framework.id))),
        db.session.scalar(select(func.count(Target.id))),
    )


def item_id(package: dict, code: str) -> str:
    return next(i["identifier"] for i in package["CFItems"] if i["humanCodingScheme"] == code)


# --- The happy path ----------------------------------------------------------------


def test_import_builds_the_hierarchy(app, make, package):
    district = make.district()
    summary = import_case(json.dumps(package), district.id)
    db.session.commit()
    assert summary.framework_created and summary.created == 16
    assert (summary.groups, summary.targets) == (6, 10)
    framework = summary.framework
    assert framework.title == "Learning Standards for Mathematics, Grade 4"
    assert framework.subject == "Mathematics" and framework.case_version == "2017.2"
    assert framework.case_identifier == package["CFDocument"]["identifier"]
    domain, cluster, standard = by_code("4.NF"), by_code("4.NF.B"), by_code("4.NF.3")
    assert domain.parent_id is None and domain.kind is TargetKind.GROUP
    assert cluster.parent_id == domain.id and cluster.kind is TargetKind.GROUP
    assert standard.parent_id == cluster.id and standard.kind is TargetKind.TARGET
    assert (standard.grade_low, standard.grade_high) == (4, 4)
    assert standard.item_type == "Standard"
    assert standard.case_identifier == item_id(package, "4.NF.3")
    assert [by_code(c).position for c in ("4.NF.5", "4.NF.6", "4.NF.7")] == [1, 2, 3]


def test_reimport_updates_in_place_and_keeps_family_wording(app, make, package):
    district = make.district()
    import_case(json.dumps(package), district.id)
    db.session.commit()
    nf1 = by_code("4.NF.1")
    nf1.family_statement = "Shows that 1/2 and 2/4 are the same amount."
    db.session.commit()
    nf1_id = nf1.id

    newer = copy.deepcopy(package)
    newer["CFDocument"]["version"] = "2024"
    item = next(i for i in newer["CFItems"] if i["humanCodingScheme"] == "4.NF.1")
    item["fullStatement"] = "Explain why fractions are equivalent using visual models."
    item["educationLevel"] = ["03", "04"]
    summary = import_case(json.dumps(newer).encode(), district.id)
    db.session.commit()

    assert not summary.framework_created
    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 15)
    assert counts() == (1, 16)
    row = db.session.get(Target, nf1_id)
    db.session.refresh(row)
    assert row.statement.startswith("Explain why fractions are equivalent using")
    assert (row.grade_low, row.grade_high) == (3, 4)
    assert row.family_statement == "Shows that 1/2 and 2/4 are the same amount."
    assert summary.framework.case_version == "2024"


def test_reimport_moves_items_and_adds_new_ones(app, make, package):
    district = make.district()
    import_case(json.dumps(package), district.id)
    db.session.commit()
    newer = copy.deepcopy(package)
    # move 4.OA.3 under cluster 4.NF.A and add a new standard under 4.OA.A
    assoc = next(
        a
        for a in newer["CFAssociations"]
        if a["originNodeURI"]["identifier"] == item_id(newer, "4.OA.3")
    )
    assoc["destinationNodeURI"] = {"identifier": item_id(newer, "4.NF.A"), "title": "4.NF.A"}
    newer["CFItems"].append(
        {
            "identifier": "0d6f2c44-9a11-4e55-8f0e-2b7d5e9c1a01",
            "fullStatement": "Find all factor pairs for a whole number in the range 1-100.",
            "humanCodingScheme": "4.OA.4",
            "educationLevel": ["04"],
            "CFItemType": "Standard",
        }
    )
    newer["CFAssociations"].append(
        {
            "identifier": "0d6f2c44-9a11-4e55-8f0e-2b7d5e9c1a02",
            "associationType": "isChildOf",
            "sequenceNumber": 4,
            "originNodeURI": {"identifier": "0d6f2c44-9a11-4e55-8f0e-2b7d5e9c1a01"},
            "destinationNodeURI": {"identifier": item_id(newer, "4.OA.A")},
        }
    )
    summary = import_case(json.dumps(newer), district.id)
    db.session.commit()
    assert (summary.created, summary.updated) == (1, 1)
    assert by_code("4.OA.3").parent_id == by_code("4.NF.A").id
    assert by_code("4.OA.4").parent_id == by_code("4.OA.A").id


def test_a_wrapped_cfpackage_and_string_grades_are_accepted(app, make, package):
    package["CFItems"][0]["educationLevel"] = "KG,01,02"
    district = make.district()
    summary = import_case(json.dumps({"CFPackage": package}), district.id)
    assert summary.created == 16
    assert (by_code("4.NF").grade_low, by_code("4.NF").grade_high) == (0, 2)


@pytest.mark.parametrize(
    ("levels", "band"),
    [
        (["03", "04"], (3, 4)),
        ("KG", (0, 0)),
        (["KG", "01"], (0, 1)),
        ("09,10,11,12", (9, 12)),
        (["PK", "AE"], (None, None)),
        (None, (None, None)),
        (["7"], (7, 7)),
    ],
)
def test_education_level_to_grade_band(levels, band):
    assert grade_band(levels) == band


def test_items_without_education_level_take_their_parents(app, make, package):
    for item in package["CFItems"]:
        if item["humanCodingScheme"] != "4.NF":
            item.pop("educationLevel")
    district = make.district()
    import_case(json.dumps(package), district.id)
    assert (by_code("4.NF.2").grade_low, by_code("4.NF.2").grade_high) == (4, 4)
    assert by_code("4.OA.1").grade_low is None


def test_the_same_package_cannot_be_owned_twice(app, make, package):
    district = make.district()
    other = make.district("Other District")
    import_case(json.dumps(package), district.id)
    db.session.commit()
    with pytest.raises(CaseImportError) as error:
        import_case(json.dumps(package), other.id)
    assert "already imported" in error.value.errors[0] and "Test District" in error.value.errors[0]


# --- Malformed packages: a message naming the problem, nothing written ----------------


def _broken(package: dict, how: str) -> str | bytes:
    if how == "not json":
        return "{ this is not json"
    if how == "not utf8":
        return b"\xff\xfe\x00{"
    if how == "no document":
        package.pop("CFDocument")
    elif how == "no document identifier":
        package["CFDocument"].pop("identifier")
    elif how == "no items":
        package.pop("CFItems")
    elif how == "item without identifier":
        package["CFItems"][3].pop("identifier")
    elif how == "item without statement":
        package["CFItems"][5]["fullStatement"] = "  "
    elif how == "duplicate item":
        package["CFItems"][6]["identifier"] = package["CFItems"][2]["identifier"]
    elif how == "unknown child":
        package["CFAssociations"][4]["originNodeURI"]["identifier"] = "no-such-item"
    elif how == "unknown parent":
        package["CFAssociations"][4]["destinationNodeURI"]["identifier"] = "no-such-parent"
    elif how == "association without end":
        package["CFAssociations"][2].pop("destinationNodeURI")
    elif how == "cycle":
        # 4.NF (a domain) becomes the child of its own cluster 4.NF.A
        nf, nfa = item_id(package, "4.NF"), item_id(package, "4.NF.A")
        root = next(a for a in package["CFAssociations"] if a["originNodeURI"]["identifier"] == nf)
        root["destinationNodeURI"] = {"identifier": nfa}
    return json.dumps(package)


MALFORMED = [
    ("not json", ["not valid JSON", "line 1"]),
    ("not utf8", ["not UTF-8"]),
    ("no document", ["no CFDocument"]),
    ("no document identifier", ["CFDocument has no identifier"]),
    ("no items", ["no CFItems"]),
    ("item without identifier", ["CFItems[3]", "(4.NF.2)", "no identifier"]),
    ("item without statement", ["CFItems[5]", "no fullStatement"]),
    ("duplicate item", ["CFItems[6]", "also CFItems[2]"]),
    ("unknown child", ["CFAssociations[4]", "originNodeURI.identifier no-such-item"]),
    ("unknown parent", ["CFAssociations[4]", "destinationNodeURI.identifier no-such-parent"]),
    ("association without end", ["CFAssociations[2]", "no destinationNodeURI.identifier"]),
    ("cycle", ["loop", "4.NF.A (", "4.NF ("]),
]


@pytest.mark.parametrize(("how", "expected"), MALFORMED)
def test_malformed_package_names_the_problem(package, how, expected):
    with pytest.raises(CaseImportError) as error:
        parse_package(_broken(package, how))
    message = " ".join(error.value.errors)
    for fragment in expected:
        assert fragment in message, message


@pytest.mark.parametrize(("how", "expected"), MALFORMED)
def test_malformed_upload_is_422_in_the_page_and_writes_nothing(
    client, auth, make, package, how, expected
):
    admin = make.district_admin()
    make.commit()
    auth.login(admin)
    before = counts()
    raw = _broken(package, how)
    raw = raw.encode() if isinstance(raw, str) else raw
    response = client.post(
        "/targets/import",
        data={"package": (io.BytesIO(raw), "standards.json"), "org_id": str(admin.org_id)},
        content_type="multipart/form-data",
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nothing was imported" in body and expected[0] in body
    assert counts() == before


def test_an_error_late_in_the_package_leaves_an_earlier_import_untouched(app, make, package):
    district = make.district()
    import_case(json.dumps(package), district.id)
    db.session.commit()
    newer = copy.deepcopy(package)
    newer["CFItems"][0]["fullStatement"] = "Renamed domain"
    newer["CFAssociations"][-2]["originNodeURI"]["identifier"] = "ghost"
    with pytest.raises(CaseImportError):
        import_case(json.dumps(newer), district.id)
    db.session.rollback()
    assert by_code("4.NF").statement == "Number and Operations—Fractions"


# --- The page and the command ------------------------------------------------------


def test_admin_imports_through_the_page_and_sees_a_summary(client, auth, make, package):
    admin = make.school_admin()
    make.commit()
    auth.login(admin)
    form = client.get("/targets/import").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in form
    response = client.post(
        "/targets/import",
        data={
            "package": (io.BytesIO(PACKAGE_PATH.read_bytes()), "math.json"),
            "org_id": str(admin.org_id),
        },
        content_type="multipart/form-data",
        headers=HX,
    )
    assert response.status_code == 204
    assert "/targets/?framework=" in response.headers["HX-Redirect"]
    page = client.get(response.headers["HX-Redirect"]).get_data(as_text=True)
    assert "16 new, 0 updated, 0 unchanged" in page
    assert "4.NF.7" in page
    assert db.session.scalar(select(Framework.org_id)) == admin.org_id


def test_import_errors_come_back_as_a_fragment_for_htmx(client, auth, make):
    admin = make.school_admin()
    make.commit()
    auth.login(admin)
    response = client.post(
        "/targets/import",
        data={"package": (io.BytesIO(b"[]"), "x.json"), "org_id": str(admin.org_id)},
        content_type="multipart/form-data",
        headers=HX,
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in body
    assert 'id="import-form"' in body and "no CFDocument" in body


def test_import_needs_a_json_file_and_an_org_i_manage(client, auth, make, package):
    admin = make.school_admin()
    elsewhere = make.school("Elsewhere", district=make.district("Other"))
    make.commit()
    auth.login(admin)
    response = client.post("/targets/import", data={"org_id": str(admin.org_id)})
    assert response.status_code == 422 and "Choose the CFPackage" in response.get_data(as_text=True)
    response = client.post(
        "/targets/import",
        data={"package": (io.BytesIO(PACKAGE_PATH.read_bytes()), "m.json"), "org_id": elsewhere.id},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert counts() == (0, 0)


@pytest.mark.parametrize("role", ["teacher", "learner", "guardian"])
def test_only_admins_import(client, auth, make, role):
    person = getattr(make, role)()
    make.commit()
    auth.login(person)
    assert client.get("/targets/import").status_code == 403


def test_cli_imports_and_reimports(app, make):
    district = make.district()
    make.commit()
    runner = app.test_cli_runner()
    args = ["targets", "import-case", str(PACKAGE_PATH), "--org-id", str(district.id)]
    first = runner.invoke(args=args)
    assert first.exit_code == 0, first.output
    assert "Created framework" in first.output and "16 created" in first.output
    second = runner.invoke(args=args)
    assert second.exit_code == 0 and "0 created, 0 updated, 16 unchanged" in second.output
    assert counts() == (1, 16)


def test_cli_reports_a_bad_file_and_writes_nothing(app, make, tmp_path):
    district = make.district()
    make.commit()
    bad = tmp_path / "bad.json"
    bad.write_text('{"CFDocument": {"identifier": "d", "title": "T"}, "CFItems": [{}]}')
    result = app.test_cli_runner().invoke(
        args=["targets", "import-case", str(bad), "--org-id", str(district.id)]
    )
    assert result.exit_code == 1
    assert "CFItems[0] has no identifier" in result.output
    assert counts() == (0, 0)


# --- Hostile packages: a message naming the item and field, never a crash, nothing written --


def _hostile(package: dict, how: str) -> str:
    item = package["CFItems"][2]
    if how == "deep nesting":
        return "[" * 100_000 + "]" * 100_000
    if how == "a number of 5000 digits":
        return json.dumps(package).replace(
            '"listEnumeration": "1"', '"listEnumeration": ' + "9" * 5000, 1
        )
    if how == "listEnumeration 10**30":
        item["listEnumeration"] = 10**30
    elif how == "listEnumeration 2**40":
        item["listEnumeration"] = 2**40
    elif how == "listEnumeration of 5000 digit characters":
        item["listEnumeration"] = "9" * 5000
    elif how == "sequenceNumber 2**63":
        package["CFAssociations"][4]["sequenceNumber"] = 2**63
    elif how == "NUL in a statement":
        item["fullStatement"] = "I can add\x00 fractions."
    elif how == "lone surrogate in a code":
        item["humanCodingScheme"] = "4.NF\ud800"
    elif how == "NUL in a key":
        item["note\x00"] = "x"
    return json.dumps(package)


HOSTILE = [
    ("deep nesting", ["nests brackets too deeply"]),
    ("a number of 5000 digits", ["number too long"]),
    ("listEnumeration 10**30", ["CFItems[2]", "listEnumeration is not a number"]),
    ("listEnumeration 2**40", ["CFItems[2]", "listEnumeration is not a number"]),
    ("listEnumeration of 5000 digit characters", ["CFItems[2]", "listEnumeration"]),
    ("sequenceNumber 2**63", ["CFAssociations[4]", "sequenceNumber is not a number"]),
    ("NUL in a statement", ["CFItems[2].fullStatement", "not allowed"]),
    ("lone surrogate in a code", ["CFItems[2].humanCodingScheme", "not allowed"]),
    ("NUL in a key", ["CFItems[2]", "not allowed"]),
]


@pytest.mark.parametrize(("how", "expected"), HOSTILE)
def test_hostile_package_names_the_problem(package, how, expected):
    with pytest.raises(CaseImportError) as error:
        parse_package(_hostile(package, how))
    message = " ".join(error.value.errors)
    for fragment in expected:
        assert fragment in message, message


@pytest.mark.both_backends
@pytest.mark.parametrize(("how", "expected"), HOSTILE)
def test_hostile_upload_is_422_and_writes_nothing(
    client, auth, make, package, backend, how, expected
):
    admin = make.district_admin()
    make.commit()
    auth.login(admin)
    before = counts()
    response = client.post(
        "/targets/import",
        data={
            "package": (io.BytesIO(_hostile(package, how).encode()), "standards.json"),
            "org_id": str(admin.org_id),
        },
        content_type="multipart/form-data",
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422, body[:500]
    assert "Nothing was imported" in body and expected[0] in body
    assert counts() == before


@pytest.mark.both_backends
def test_superscript_digits_are_not_numbers(app, make, package, backend):
    """ "²".isdigit() is True but int("²") fails: such levels and positions are ignored."""
    item = package["CFItems"][0]
    item["educationLevel"], item["listEnumeration"] = ["²"], "³"
    summary = import_case(json.dumps(package), make.district().id)
    db.session.commit()
    assert summary.created == 16
    domain = by_code(item["humanCodingScheme"])
    assert (domain.grade_low, domain.grade_high) == (None, None)
    assert domain.position == 1  # its place in CFItems
    assert grade_band(["²", "٣", "3"]) == (3, 3)
