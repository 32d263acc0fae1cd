"""The push route's two ways of reading a batch agree.

A push whose records are all valid is checked in one pass of pydantic's
compiled core (`_all_valid`); anything else goes record by record
(`_one_by_one`). The fast way must never accept what the careful way refuses,
and must give the same plain records when both accept.
"""

from __future__ import annotations

import copy
import json

import pytest

from fieldapp.demo import populate
from fieldapp.store import RecordStore
from sync.server.routes.push import _all_valid, _one_by_one
from tests.records_factory import call_record, recovery_record


def _body(records: list) -> bytes:
    return json.dumps({"records": records}, ensure_ascii=False).encode()


def test_demo_records_read_the_same_both_ways(tmp_path):
    store = RecordStore.open(tmp_path / "device")
    populate(store, 40, seed=7)
    records = [stored.record for stored in store.iter_current()]
    store.close()
    assert len(records) > 80
    raw = _body(records)
    fast = _all_valid(raw)
    rejections, careful = _one_by_one(raw)
    assert rejections == [None] * len(records)
    assert fast == careful


def _edge_cases() -> list[tuple[str, dict]]:
    base = call_record()
    cases = []

    def case(name, change):
        record = copy.deepcopy(base)
        change(record)
        cases.append((name, record))

    case("an integer latitude", lambda r: r["data"]["location"].update(lat=35, lon=36))
    case("a float version", lambda r: r.update(version=1.0))
    case("a boolean version", lambda r: r.update(version=True))
    case("a version as text", lambda r: r.update(version="1"))
    case("padded text", lambda r: r["data"]["location"].update(place="  Jableh  "))
    case("a lower-case t and z", lambda r: r.update(created_at="2026-11-25t10:01:00z"))
    case("an upper-case id", lambda r: r.update(id=r["id"].upper()))
    case("an id without hyphens", lambda r: r.update(id=r["id"].replace("-", "")))
    case("base_version equal to version", lambda r: r.update(base_version=1))
    case("a forbidden field", lambda r: r["data"].update(religion="x"))
    case("null for an optional field", lambda r: r["data"].update(notes=None))
    case("null for a required field", lambda r: r["data"].update(status=None))
    case("reported people as a float", lambda r: r["data"].update(reported_people=3.0))
    rec = recovery_record(base["id"])
    rec["data"]["identified"] = "true"
    cases.append(("identified as text", rec))
    rec = recovery_record(base["id"])
    rec["data"]["count"] = 2.5
    cases.append(("a fractional count", rec))
    return cases


@pytest.mark.parametrize("name,record", _edge_cases(), ids=[name for name, _ in _edge_cases()])
def test_the_fast_way_never_accepts_more(name, record):
    raw = _body([record])
    rejections, careful = _one_by_one(raw)
    fast = _all_valid(raw)
    if rejections[0] is not None:
        assert fast is None, f"{name}: refused record by record, accepted in one pass"
    elif fast is not None:
        assert fast == careful


def test_one_bad_record_sends_the_whole_batch_the_careful_way():
    good, bad = call_record(), call_record(version=0)
    assert _all_valid(_body([good, bad])) is None
    rejections, careful = _one_by_one(_body([good, bad]))
    assert rejections[0] is None and rejections[1]["status"] == "rejected"
    assert [r["id"] for r in careful] == [good["id"]]
