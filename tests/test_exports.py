"""Exports: CSV with its HXL row, GeoJSON, JSON lines; personal data only when asked."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone

import pytest

from fieldapp.demo import populate
from fieldapp.exports import COLUMNS, PERSONAL_COLUMNS, to_csv, to_geojson, to_jsonl
from fieldapp.figures import day_figures
from fieldapp.records import validate_record
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
    placeless = call_record(data=call_data(location={"place": "Ariha - أريحا"}, received_at="2026-11-25T11:00:00+03:00"), review={"state": "flagged", "note": "which street?"})
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
    assert tags[-2:] == ["#contact+phone", "#affected+name"]
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


def test_jsonl_is_every_record_whole_by_default(small):
    text = to_jsonl(small)
    lines = text.splitlines()
    assert len(lines) == len(small) and text.endswith("\n")
    parsed = [json.loads(line) for line in lines]
    assert parsed == small
    assert all("id" in r and "version" in r for r in parsed)
    assert "إدلب" in text  # Arabic as itself, not \u escapes

    reduced = [json.loads(line) for line in to_jsonl(small, include_personal=False).splitlines()]
    assert "caller_phone" not in reduced[0]["data"] and reduced[0]["data"]["reported_people"] == 12
    assert "name" not in reduced[1]["data"] and "notes" not in reduced[1]["data"]
    assert small[0]["data"]["caller_phone"] == PHONE  # the caller's records are untouched
    assert to_jsonl([]) == ""
