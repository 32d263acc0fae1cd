"""Exports: CSV with its HXL row, GeoJSON, JSON lines; personal data only when asked."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone

import pytest

from fieldapp.core.exports import (
    COLUMNS,
    PERSONAL_COLUMNS,
    content_disposition,
    export_filename,
    from_deliveries,
    one_team,
    to_csv,
    to_geojson,
    to_jsonl,
)
from fieldapp.core.figures import day_figures
from fieldapp.core.records import validate_record
from fieldapp.demo import populate
from fieldapp.store import RecordStore
from tests.records_factory import call_data, call_record, recovery_data, recovery_record

NOW = datetime(2026, 11, 25, 16, 20, tzinfo=timezone(timedelta(hours=3)))
PHONE = "+963 900 111 222"
NAME = "Demo Name 7 · اسم تجريبي 7"


def _parse(text: str) -> tuple[list[str], list[str], list[dict[str, str]]]:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, tags, body = rows[0], rows[1], rows[2:]
    return header, tags, [dict(zip(header, row)) for row in body]


@pytest.fixture(scope="module")
def demo_records(tmp_path_factory):
    store = RecordStore.open(tmp_path_factory.mktemp("device"))
    try:
        populate(store, 25, seed=4, now=NOW)
        return [r.record for r in store.iter_current()]
    finally:
        store.close()


@pytest.fixture
def small():
    """A call with a phone, a named person and an unnamed group; a call without coordinates."""
    call = call_record(data=call_data(
        caller_phone=PHONE, reported_people=12, incident_type="airstrike", status="completed",
        location={"place": "Idlib, old town - إدلب، البلدة القديمة", "lat": 35.9306, "lon": 36.6339},
    ))
    named = recovery_record(data=recovery_data(call["id"], outcome="deceased", identified=True, name=NAME, notes="at home"))
    group = recovery_record(data=recovery_data(call["id"], outcome="deceased", count=10, identified=False))
    hurt = recovery_record(data=recovery_data(call["id"], outcome="injured", count=2))
    placeless = call_record(data=call_data(location={"place": "Ariha - أريحا"}, received_at="2026-11-25T11:00:00+03:00"),
                            review={"state": "flagged", "note": "which street?"})
    records = [call, named, group, hurt, placeless]
    assert all(validate_record(r) == [] for r in records)
    return records


def test_csv_header_then_hashtags(small):
    header, tags, rows = _parse(to_csv(small))
    assert header == [name for name, _ in COLUMNS]
    assert tags == [tag for _, tag in COLUMNS]
    assert all(tag.startswith("#") for tag in tags)
    assert "#affected+rescued" in tags and "#affected+killed" in tags and "#geo+lat" in tags
    first = rows[0]
    assert first["kind"] == "call" and first["incident_type"] == "airstrike"
    assert (first["deceased"], first["deceased_identified"], first["deceased_unidentified"]) == ("11", "1", "10")
    assert (first["injured"], first["rescued"], first["reported_people"]) == ("2", "0", "12")
    assert (first["lat"], first["lon"]) == ("35.9306", "36.6339")
    assert rows[1]["review"] == "flagged" and rows[1]["lat"] == ""  # flagged still exported


def test_csv_leaves_personal_data_out_unless_asked(small, demo_records):
    plain = to_csv(small)
    assert PHONE not in plain and "900 111" not in plain and "Demo Name" not in plain and "اسم" not in plain
    assert "at home" not in plain
    demo = to_csv(demo_records)
    assert "Demo Name" not in demo and "+963" not in demo
    assert any("Demo Name" in r["data"].get("name", "") for r in demo_records)  # there was some to leave out

    header, tags, rows = _parse(to_csv(small, include_personal=True))
    assert header[-2:] == [name for name, _ in PERSONAL_COLUMNS]
    assert tags[-2:] == ["#contact+phone", "#description+name"]
    assert rows[0]["caller_phone"] == "'" + PHONE  # a leading + would start a formula
    assert rows[0]["names"] == NAME


def test_csv_neutralizes_formulas():
    call = call_record(data=call_data(location={"place": "=HYPERLINK(\"http://x\",\"click\")", "lat": 35.5, "lon": -12.25}))
    other = call_record(data=call_data(location={"place": "-2+3"}, received_at="2026-11-25T11:00:00+03:00"))
    person = recovery_record(data=recovery_data(call["id"], outcome="rescued", identified=True, name="@SUM(A1:A9)"))
    assert all(validate_record(r) == [] for r in (call, other, person))
    _, _, rows = _parse(to_csv([call, other, person], include_personal=True))
    assert rows[0]["place"] == "'=HYPERLINK(\"http://x\",\"click\")"
    assert rows[0]["names"] == "'@SUM(A1:A9)"
    assert rows[0]["lon"] == "-12.25"  # our own numbers stay numbers
    assert rows[1]["place"] == "'-2+3"
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "@")), value


def test_csv_counts_match_the_days_figures(demo_records):
    days = sorted({r["data"]["received_at"][:10] for r in demo_records if r["type"] == "call"})
    assert len(days) >= 3
    for day in days:
        figures = day_figures(demo_records, day)
        _, _, rows = _parse(to_csv(demo_records, day=day))
        total = lambda column: sum(int(r[column]) for r in rows)  # noqa: E731
        assert sum(r["kind"] == "call" for r in rows) == figures["totals"]["calls"]
        assert {o: total(o) for o in ("rescued", "injured", "deceased")} == figures["people"]
        assert total("deceased_identified") == figures["deceased"]["identified"]
        assert total("deceased_unidentified") == figures["deceased"]["unidentified"]
        for outcome in ("rescued", "injured", "deceased"):
            for column, sex in (("female", "female"), ("male", "male")):
                assert total(f"{outcome}_{column}") == figures["people_by_sex"][outcome][sex]
            for column, group in (("children", "child"), ("adults", "adult"), ("elderly", "elderly")):
                assert total(f"{outcome}_{column}") == figures["people_by_age_group"][outcome][group]
        assert sum(int(r["missing_people"] or 0) for r in rows if r["kind"] == "call") == figures["missing_people"]
        by_type = {}
        for r in rows:
            if r["kind"] == "call":
                by_type[r["incident_type"]] = by_type.get(r["incident_type"], 0) + 1
        assert by_type == {k: v for k, v in figures["calls_by_incident_type"].items() if v}

    # Without a day: every call once, every person once.
    _, _, rows = _parse(to_csv(demo_records))
    assert sum(r["kind"] == "call" for r in rows) == sum(r["type"] == "call" for r in demo_records)
    people = sum(r["data"]["count"] for r in demo_records if r["type"] == "recovery")
    assert sum(int(r[o]) for r in rows for o in ("rescued", "injured", "deceased")) == people


def test_recoveries_without_their_call_get_their_own_row():
    call = call_record(data=call_data(received_at="2026-11-24T23:40:00+03:00"))
    late = recovery_record(data=recovery_data(call["id"], outcome="rescued", count=3, recovered_at="2026-11-25T00:30:00+03:00"))
    absent_call = "9d7c8a9e-5a55-4a43-9a41-6a0c1f0f0e11"
    orphans = [
        recovery_record(data=recovery_data(absent_call, outcome="deceased", count=4, recovered_at="2026-11-25T09:00:00+03:00")),
        recovery_record(data=recovery_data(absent_call, outcome="deceased", identified=True, recovered_at="2026-11-25T09:10:00+03:00")),
    ]
    records = [call, late, *orphans]

    _, _, rows = _parse(to_csv(records, day="2026-11-25"))
    assert [r["kind"] for r in rows] == ["recoveries_only", "recoveries_only"]
    late_row, absent_row = rows
    # The call is at hand but of the day before: described, not counted again.
    assert late_row["id"] == call["id"] and late_row["incident_type"] == "building_collapse"
    assert late_row["rescued"] == "3" and late_row["reported_people"] == ""
    assert absent_row["id"] == absent_call and absent_row["incident_type"] == "" and absent_row["review"] == ""
    assert (absent_row["deceased"], absent_row["deceased_identified"], absent_row["deceased_unidentified"]) == ("5", "1", "4")

    _, _, rows = _parse(to_csv(records, day="2026-11-24"))
    assert [(r["kind"], r["rescued"]) for r in rows] == [("call", "0")]
    _, _, rows = _parse(to_csv(records))
    assert [(r["kind"], r["id"]) for r in rows] == [("call", call["id"]), ("recoveries_only", absent_call)]


def test_geojson_points_in_lon_lat_order(small, demo_records):
    collection = to_geojson(small)
    assert json.loads(json.dumps(collection)) == collection
    assert collection["type"] == "FeatureCollection"
    [feature] = collection["features"]  # the call without coordinates is not on the map
    assert feature["type"] == "Feature"
    assert feature["geometry"] == {"type": "Point", "coordinates": [36.6339, 35.9306]}  # lon, lat
    props = feature["properties"]
    assert props["id"] == small[0]["id"] and props["deceased"] == 11 and props["place"].startswith("Idlib")
    assert "caller_phone" not in props and "names" not in props
    assert PHONE not in json.dumps(collection, ensure_ascii=False)

    personal = to_geojson(small, include_personal=True)["features"][0]["properties"]
    assert personal["caller_phone"] == PHONE and personal["names"] == NAME

    demo = to_geojson(demo_records)
    assert demo["features"]
    for f in demo["features"]:
        lon, lat = f["geometry"]["coordinates"]
        assert 35.7 < lon < 36.9 and 34.7 < lat < 36.3
        assert f["geometry"]["type"] == "Point"


def test_jsonl_is_every_record_whole_but_its_personal_fields_unless_asked(small):
    text = to_jsonl(small)
    lines = text.splitlines()
    assert len(lines) == len(small) and text.endswith("\n")
    parsed = [json.loads(line) for line in lines]
    assert all("id" in r and "version" in r for r in parsed)
    assert "إدلب" in text  # Arabic as itself, not \u escapes
    assert PHONE not in text and "Demo Name" not in text and "اسم" not in text and "at home" not in text
    assert "caller_phone" not in parsed[0]["data"] and parsed[0]["data"]["reported_people"] == 12
    assert "name" not in parsed[1]["data"] and "notes" not in parsed[1]["data"]
    assert parsed[1]["data"]["identified"] is True and parsed[1]["data"]["outcome"] == "deceased"
    assert small[0]["data"]["caller_phone"] == PHONE  # the caller's records are untouched

    # With include_personal: each record whole, plus the export-only keys.
    whole = [json.loads(line) for line in to_jsonl(small, include_personal=True).splitlines()]
    assert [{k: v for k, v in r.items() if k not in ("team", "delivered_by")} for r in whole] == small
    assert whole[0]["data"]["caller_phone"] == PHONE and whole[1]["data"]["name"] == NAME
    assert all(r["team"] is None and r["delivered_by"] is None for r in whole)  # not known here
    assert to_jsonl([]) == ""


def test_jsonl_day_keeps_the_records_of_that_day():
    call = call_record(data=call_data(received_at="2026-11-24T23:40:00+03:00"))
    late = recovery_record(data=recovery_data(call["id"], recovered_at="2026-11-25T00:30:00+03:00"))
    assert [json.loads(x)["id"] for x in to_jsonl([call, late], day="2026-11-25").splitlines()] == [late["id"]]
    assert [json.loads(x)["id"] for x in to_jsonl([call, late], day="2026-11-24").splitlines()] == [call["id"]]
    with pytest.raises(ValueError):
        to_jsonl([call], day="yesterday")


def test_handover_receivers_and_photos_are_personal_too():
    """For the schema versions that carry them: removed from the JSON lines unless asked."""
    call = call_record()
    record = recovery_record(data=recovery_data(call["id"]))
    record["data"]["handover"] = {"to": "family", "receiver": "Demo Receiver", "at": "2026-11-25T10:00:00+03:00"}
    record["data"]["photos"] = ["photo-1.jpg"]
    [line] = to_jsonl([record]).splitlines()
    plain = json.loads(line)
    assert plain["data"]["handover"] == {"to": "family", "at": "2026-11-25T10:00:00+03:00"}
    assert "photos" not in plain["data"] and "Demo Receiver" not in line
    [line] = to_jsonl([record], include_personal=True).splitlines()
    assert json.loads(line)["data"]["handover"]["receiver"] == "Demo Receiver"


def _two_teams():
    """Team A's call with a named recovery; team B's call, each delivered by a device of its own."""
    a = call_record(data=call_data(caller_phone=PHONE, location={"place": "A", "lat": 35.9, "lon": 36.6}))
    a_named = recovery_record(data=recovery_data(a["id"], outcome="deceased", identified=True, name=NAME))
    b = call_record(data=call_data(location={"place": "B", "lat": 35.8, "lon": 36.5},
                                   received_at="2026-11-25T11:00:00+03:00"))
    b_orphan = recovery_record(data=recovery_data("9d7c8a9e-5a55-4a43-9a41-6a0c1f0f0e11", outcome="rescued"))
    return [(a, "team-a", "dev-a1"), (a_named, "team-a", "dev-a2"), (b, "team-b", "dev-b1"),
            (b_orphan, "team-b", "dev-b1")]


def test_every_format_names_the_team_and_the_delivering_device():
    records, provenance = from_deliveries(_two_teams())
    a, a_named, b, b_orphan = records

    _, _, rows = _parse(to_csv(records, provenance=provenance))
    by_id = {r["id"]: r for r in rows}
    assert (by_id[a["id"]]["team"], by_id[a["id"]]["delivered_by"]) == ("team-a", "dev-a1; dev-a2")
    assert (by_id[b["id"]]["team"], by_id[b["id"]]["delivered_by"]) == ("team-b", "dev-b1")
    orphan = by_id[b_orphan["data"]["call_id"]]
    assert orphan["kind"] == "recoveries_only" and orphan["team"] == "team-b"
    # an all-teams export splits again by team, and each part adds up
    assert sorted(r["team"] for r in rows) == ["team-a", "team-b", "team-b"]

    features = to_geojson(records, provenance=provenance)["features"]
    assert {f["properties"]["team"] for f in features} == {"team-a", "team-b"}
    assert {f["properties"]["delivered_by"] for f in features} == {"dev-a1; dev-a2", "dev-b1"}

    lines = [json.loads(x) for x in to_jsonl(records, provenance=provenance).splitlines()]
    assert [(x["id"], x["team"], x["delivered_by"]) for x in lines] == [
        (a["id"], "team-a", "dev-a1"), (a_named["id"], "team-a", "dev-a2"),
        (b["id"], "team-b", "dev-b1"), (b_orphan["id"], "team-b", "dev-b1")]

    # The phone: one team, the delivering device unknown.
    phone = [json.loads(x) for x in to_jsonl(records[:2], provenance=one_team(records[:2], "team-a")).splitlines()]
    assert [(x["team"], x["delivered_by"]) for x in phone] == [("team-a", None)] * 2
    _, _, rows = _parse(to_csv(records[:2], provenance=one_team(records[:2], "")))
    assert (rows[0]["team"], rows[0]["delivered_by"]) == ("", "")  # not pulled yet: empty


def test_file_names_and_their_header():
    assert export_filename("team-a", "2026-11-25", "csv") == "fieldapp-team-a-2026-11-25.csv"
    assert export_filename("team-a", None, "geojson") == "fieldapp-team-a-all.geojson"
    assert export_filename(None, "2026-11-25", "csv") == "fieldapp-2026-11-25.csv"
    assert export_filename("../a b/فريق", None, "csv") == "fieldapp-.._a_b_فريق-all.csv"  # one folder's file
    assert content_disposition("fieldapp-team-a-all.csv") == 'attachment; filename="fieldapp-team-a-all.csv"'
    arabic = content_disposition("fieldapp-فريق \"x\"-all.csv")
    arabic.encode("latin-1")  # a header Starlette can send
    assert arabic.startswith('attachment; filename="fieldapp-_x_-all.csv"; filename*=UTF-8\'\'fieldapp-')


# --- HXL: libhxl's own validator, with the schema bundled in its package ------------------------------

hxl = pytest.importorskip("hxl")


@pytest.fixture
def no_network(monkeypatch):
    """The validator must work offline: any attempt to connect fails the test."""
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("libhxl tried the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def hxl_report(text: str) -> dict:
    """libhxl's validation report of CSV text against its built-in core schema (hxl-default-schema.json)."""
    from hxl.input import InputOptions

    source = hxl.data(io.BytesIO(text.encode("utf-8")), InputOptions(allow_local=False))
    return hxl.validate(source)  # schema=None: the schema file inside the package, read from disk


def _problems(report: dict) -> list:
    """Errors and warnings. The schema's "info" notes are about the data, not its tagging
    (a call with 13 people among calls with 2 is a "possible numeric outlier"), and are
    allowed; libhxl's is_valid is False on those too."""
    return [(i["tag_pattern"], i["description"], i["severity"]) for i in report["issues"]
            if i["severity"] != "info" or i["description"] != "Possible numeric outlier"]


def test_default_and_personal_csv_pass_libhxls_validator(no_network, small, demo_records):
    records, provenance = from_deliveries(_two_teams())
    cases = {
        "small": (small, None), "demo": (demo_records, None), "two teams": (records, provenance),
        "demo as a phone of team-a": (demo_records, one_team(demo_records, "team-a")),
    }
    for label, (given, origin) in cases.items():
        for personal in (False, True):
            report = hxl_report(to_csv(given, include_personal=personal, provenance=origin))
            assert _problems(report) == [], (label, personal, report["issues"])
    assert hxl_report(to_csv(small, include_personal=True))["is_valid"]
    # the check has teeth: a name under #affected, which HXL defines as a number, is refused
    personal = to_csv(small, include_personal=True).replace("#description+name", "#affected+name")
    assert ("#affected", "Expected a number", "error") in _problems(hxl_report(personal))


def test_hashtags_follow_the_hxl_dictionary():
    tags = [hxl.model.TagPattern.parse(tag) for _, tag in COLUMNS + PERSONAL_COLUMNS]
    for pattern in tags:
        # +reported is a #date attribute in the dictionary (#date+reported)
        assert "reported" not in pattern.include_attributes or pattern.tag == "#date", pattern
    # #affected / #inneed columns are people counts: summing #affected-identified-unidentified gives the people brought out
    numeric = {name for name, tag in COLUMNS if tag.startswith(("#affected", "#inneed"))}
    breakdowns = {f"{o}_{b}" for o in ("rescued", "injured", "deceased")
                  for b in ("female", "male", "children", "adults", "elderly")}
    assert numeric == {"reported_people", "missing_people", "rescued", "injured", "deceased", "deceased_identified",
                       "deceased_unidentified"} | breakdowns
    assert dict(COLUMNS)["team"] == "#org+name"
    assert dict(COLUMNS)["missing_people"] == "#affected+missing"
    assert dict(COLUMNS)["deceased_female"] == "#affected+killed+f"
    assert dict(COLUMNS)["injured_children"] == "#affected+injured+children"
    assert dict(COLUMNS)["rescued_elderly"] == "#affected+rescued+elderly"
    # HXL's own attributes for sex and age: +f, +m, +children, +adults, +elderly
    used = {a for p in tags if p.tag == "#affected" for a in p.include_attributes}
    assert {"f", "m", "children", "adults", "elderly", "killed", "injured", "missing"} <= used


def test_hxl_patterns_pick_the_breakdowns(small):
    """A reader selects a breakdown by its attributes, and the total without them."""
    source = hxl.data(io.BytesIO(to_csv(small).encode("utf-8")))
    columns = source.columns

    def picked(pattern):
        tag = hxl.model.TagPattern.parse(pattern)
        return [c.header for c in columns if tag.match(c)]

    assert picked("#affected+killed+f") == ["deceased_female"]
    assert picked("#affected+m") == ["rescued_male", "injured_male", "deceased_male"]
    assert picked("#affected+killed-identified-unidentified-f-m-children-adults-elderly") == ["deceased"]
    assert picked("#affected+missing") == ["missing_people"]


# --- the evidence fields: breakdowns, a recovery's own place, what is personal ----------------------


@pytest.fixture
def evidence():
    """A call of ten bodies found together away from the road, and the people of a second site."""
    call = call_data(incident_type="bodies_found", status="completed", missing_people=3, reported_people=12,
                     location={"place": "Jableh, ravine - جبلة، الوادي", "lat": 35.36, "lon": 35.92})
    call = call_record(data=call)
    group = recovery_record(data=recovery_data(
        call["id"], outcome="deceased", count=10, identified=False, sex="unknown", age_group="unknown",
        conditions=["bound", "blindfolded", "gunshot_wounds"], tag="JBL-2026-0141",
        death_estimated_at="2026-11-22T12:00:00+03:00",
        location={"place": "ravine floor", "lat": 35.3612, "lon": 35.9191, "accuracy_m": 8.0},
        handover={"to": "forensic_team", "receiver": "Demo Receiver", "place": "Latakia forensic unit",
                  "at": "2026-11-25T15:00:00+03:00"}))
    woman = recovery_record(data=recovery_data(
        call["id"], outcome="deceased", identified=True, name=NAME, sex="female", age_years=70, tag="JBL-2026-0142",
        handover={"to": "family", "receiver": "Demo Receiver 2", "at": "2026-11-25T14:00:00+03:00"}))
    boy = recovery_record(data=recovery_data(call["id"], outcome="injured", sex="male", age_group="child",
                                             conditions=["fractures"],
                                             handover={"to": "hospital", "place": "Jableh National Hospital"}))
    mistaken = recovery_record(data=recovery_data(call["id"], outcome="deceased", count=4, withdrawn=True))
    records = [call, group, woman, boy, mistaken]
    assert all(validate_record(r) == [] for r in records)
    return records


def test_csv_breaks_people_down_and_places_a_recovery_at_its_own_point(evidence):
    call, group, woman, boy, _ = evidence
    header, tags, rows = _parse(to_csv(evidence))
    assert [r["kind"] for r in rows] == ["call", "recovery"]
    at_call, at_site = rows
    # The call's row: the woman (70: elderly) and the boy; the group is at its own point.
    assert (at_call["deceased"], at_call["deceased_female"], at_call["deceased_elderly"]) == ("1", "1", "1")
    assert (at_call["injured"], at_call["injured_male"], at_call["injured_children"]) == ("1", "1", "1")
    assert (at_call["missing_people"], at_call["reported_people"], at_call["recovery_id"]) == ("3", "12", "")
    assert (at_call["lat"], at_call["lon"]) == ("35.36", "35.92")
    # The group's row: ten, sex and age unknown (no breakdown column counts them), at the ravine floor.
    assert at_site["id"] == call["id"] and at_site["recovery_id"] == group["id"]
    assert (at_site["lat"], at_site["lon"], at_site["place"]) == ("35.3612", "35.9191", "ravine floor")
    assert (at_site["deceased"], at_site["deceased_unidentified"]) == ("10", "10")
    assert all(at_site[f"deceased_{b}"] == "0" for b in ("female", "male", "children", "adults", "elderly"))
    assert at_site["missing_people"] == "" and at_site["reported_people"] == ""  # counted once, on the call's row
    assert at_site["incident_type"] == "bodies_found"
    # The withdrawn record is in no row; the people add up to the day's figures.
    figures = day_figures(evidence, "2026-11-25")
    assert sum(int(r["deceased"]) for r in rows) == figures["people"]["deceased"] == 11
    assert figures["people_by_sex"]["deceased"] == {"female": 1, "male": 0, "unknown": 10}
    assert figures["people_by_age_group"]["injured"] == {"child": 1, "adult": 0, "elderly": 0, "unknown": 0}
    assert figures["missing_people"] == 3
    # Receivers and names stay out unless asked; tags, conditions and ages are not in these summaries at all.
    text = to_csv(evidence)
    assert "Demo Receiver" not in text and "Demo Name" not in text
    _, _, personal = _parse(to_csv(evidence, include_personal=True))
    assert personal[0]["names"] == NAME and personal[1]["names"] == "" and personal[1]["caller_phone"] == ""
    assert "Demo Receiver" not in to_csv(evidence, include_personal=True)


def test_geojson_puts_a_recovery_with_coordinates_at_its_own_point(evidence):
    call, group, *_ = evidence
    features = to_geojson(evidence)["features"]
    assert [f["id"] for f in features] == [call["id"], group["id"]]  # unique feature ids
    at_call, at_site = features
    assert at_call["geometry"]["coordinates"] == [35.92, 35.36]
    assert at_site["geometry"]["coordinates"] == [35.9191, 35.3612]  # lon, lat
    assert at_site["properties"]["id"] == call["id"] and at_site["properties"]["recovery_id"] == group["id"]
    assert at_site["properties"]["kind"] == "recovery" and at_site["properties"]["deceased"] == 10
    assert at_call["properties"]["deceased"] == 1 and at_call["properties"]["missing_people"] == 3
    assert "Demo Receiver" not in json.dumps(features, ensure_ascii=False)


def test_a_located_recovery_whose_call_is_absent_gets_its_own_row_only():
    absent_call = "9d7c8a9e-5a55-4a43-9a41-6a0c1f0f0e11"
    located = recovery_record(data=recovery_data(absent_call, outcome="deceased", count=3,
                                                 location={"lat": 35.5, "lon": 35.8}))
    _, _, rows = _parse(to_csv([located]))
    assert [(r["kind"], r["id"], r["recovery_id"], r["deceased"]) for r in rows] == [
        ("recovery", absent_call, located["id"], "3")]
    # a place name without coordinates stays with its call
    named = recovery_record(data=recovery_data(absent_call, outcome="rescued", location={"place": "cellar"}))
    _, _, rows = _parse(to_csv([located, named]))
    assert [(r["kind"], r["rescued"], r["deceased"]) for r in rows] == [("recoveries_only", "1", "0"),
                                                                         ("recovery", "0", "3")]


def test_jsonl_keeps_the_evidence_fields_and_drops_the_receiver(evidence):
    lines = [json.loads(x) for x in to_jsonl(evidence).splitlines()]
    group = lines[1]["data"]
    assert group["conditions"] == ["bound", "blindfolded", "gunshot_wounds"]
    assert group["tag"] == "JBL-2026-0141" and group["death_estimated_at"] == "2026-11-22T12:00:00+03:00"
    assert group["handover"] == {"to": "forensic_team", "place": "Latakia forensic unit",
                                 "at": "2026-11-25T15:00:00+03:00"}
    assert lines[2]["data"]["age_years"] == 70 and "name" not in lines[2]["data"]
    assert lines[4]["data"]["withdrawn"] is True  # the record export carries a withdrawn record, marked
    assert lines[0]["data"]["missing_people"] == 3
    whole = [json.loads(x) for x in to_jsonl(evidence, include_personal=True).splitlines()]
    assert whole[1]["data"]["handover"]["receiver"] == "Demo Receiver"


def test_the_csv_with_the_breakdowns_passes_libhxls_validator(no_network, evidence, small):
    for records in (evidence, evidence + small):
        for personal in (False, True):
            report = hxl_report(to_csv(records, include_personal=personal))
            assert _problems(report) == [], report["issues"]
    # and it has teeth on the new columns: a word under #affected+missing is refused
    rows = list(csv.reader(io.StringIO(to_csv(evidence), newline="")))
    rows[2][rows[0].index("missing_people")] = "three"
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    assert ("#affected", "Expected a number", "error") in _problems(hxl_report(buffer.getvalue()))
