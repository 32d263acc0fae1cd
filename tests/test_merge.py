"""The three-way merge (fieldapp/core/merge.py) on its own, as properties, and the same on server and phone.

- Random edits of disjoint fields on two sides never conflict and lose no change.
- Edits of one field to different values on both sides always conflict.
- The server's planner and the phone's reconcile give the same merge of the same three versions.
"""

from __future__ import annotations

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldapp.core.merge import content, merge
from fieldapp.core.protocol import Role
from fieldapp.core.records import Condition, IncidentType, normalize
from fieldapp.store import reconcile
from fieldapp.store.document import SyncState
from sync.server import planner
from sync.server.verdicts import Current, VerdictKind
from tests.records_factory import call_record, recovery_record

CALL = normalize(call_record(device_id="phone-base", data={**call_record()["data"], "reported_people": 3,
                                                            "notes": "smoke from the east side"}))
RECOVERY = normalize(recovery_record(device_id="phone-base", data={
    **recovery_record()["data"], "count": 2, "sex": "male", "conditions": ["bound"], "tag": "T-1"}))

PLACES = [{"place": "the old market"}, {"place": "Jableh", "lat": 35.36, "lon": 35.93}, {"lat": 35.1, "lon": 35.9}]
TEXT = st.text(alphabet="abcdefghij ", min_size=1, max_size=12).map(str.strip).filter(bool)

# What a side may change, field by field: each value a valid one (the base's filtered out below).
CALL_FIELDS = {
    "location": st.sampled_from(PLACES),
    "reported_people": st.integers(0, 500),
    "missing_people": st.integers(0, 50),
    "notes": TEXT,
    "incident_type": st.sampled_from(list(IncidentType)).map(str),
    "caller_phone": st.sampled_from(["+963 11 1234567", "0933 000 111"]),
}
RECOVERY_FIELDS = {
    "count": st.integers(1, 50),
    "sex": st.sampled_from(["female", "unknown"]),
    "age_group": st.sampled_from(["child", "adult", "elderly"]),
    "identified": st.booleans(),
    "name": TEXT,
    "tag": TEXT,
    "notes": TEXT,
    "location": st.sampled_from(PLACES),
}


def side(base: dict, device: str, version: int, **data) -> dict:
    changed = copy.deepcopy(base)
    changed.update(version=version, base_version=base["version"], device_id=device)
    changed["data"].update(data)
    return normalize(changed)


@st.composite
def disjoint_edits(draw, kind: str = "call"):
    base, fields = (CALL, CALL_FIELDS) if kind == "call" else (RECOVERY, RECOVERY_FIELDS)
    names = draw(st.lists(st.sampled_from(sorted(fields)), min_size=1, max_size=len(fields), unique=True))
    split = draw(st.integers(0, len(names)))
    ours_fields, theirs_fields = names[:split], names[split:]

    def values(chosen):
        return {n: draw(fields[n].filter(lambda v, n=n: v != base["data"].get(n))) for n in chosen}

    return base, values(ours_fields), values(theirs_fields)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["call", "recovery"]).flatmap(disjoint_edits))
def test_edits_of_disjoint_fields_never_conflict_and_lose_no_change(edits):
    base, ours_data, theirs_data = edits
    ours, theirs = side(base, "phone-a", 2, **ours_data), side(base, "phone-b", 2, **theirs_data)
    result = merge(base, ours, theirs)
    assert result.clean, result.conflicts
    data = result.record["data"]
    for name in ours_data:
        assert data[name] == ours["data"][name]
    for name in theirs_data:
        assert data[name] == theirs["data"][name]
    for name, value in base["data"].items():
        if name not in ours_data and name not in theirs_data:
            assert data[name] == value
    assert normalize({**base, **result.record, "version": 3, "base_version": 2})  # a valid record


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(CALL_FIELDS)).flatmap(
    lambda name: st.tuples(st.just(name), st.lists(CALL_FIELDS[name].filter(lambda v, n=name: v != CALL["data"].get(n)),
                                                   min_size=2, max_size=2, unique_by=repr))))
def test_one_field_changed_on_both_sides_to_different_values_always_conflicts(change):
    name, (one, other) = change
    if one == other:
        return
    result = merge(CALL, side(CALL, "phone-a", 2, **{name: one}), side(CALL, "phone-b", 2, **{name: other}))
    assert result.conflicts == (f"data.{name}",)


# Observations that may go together (no "no visible injuries" beside an injury).
OBSERVED = [str(c) for c in Condition if c != Condition.NO_VISIBLE_INJURIES]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(OBSERVED), unique=True, max_size=5),
       st.lists(st.sampled_from(OBSERVED), unique=True, max_size=5))
def test_conditions_are_a_set_each_sides_additions_and_removals_kept(ours_list, theirs_list):
    base = RECOVERY
    ours, theirs = side(base, "a", 2, conditions=ours_list or None), side(base, "b", 2, conditions=theirs_list or None)
    result = merge(base, ours, theirs)
    assert result.clean
    got = set(result.record["data"].get("conditions") or [])
    b, o, t = set(base["data"]["conditions"]), set(ours_list), set(theirs_list)
    assert got == (b & o & t) | (o - b) | (t - b) if (o != b and t != b) else got == (t if o == b else o)


def test_a_status_log_is_merged_by_time_and_the_last_change_gives_the_status():
    start = {"status": "received", "at": "2026-11-25T10:00:00+03:00"}
    base = side(CALL, "x", 2, status_log=[start])
    ours = side(base, "a", 3, status="dispatched", status_log=[start, {"status": "dispatched", "at": "2026-11-25T10:05:00+03:00"}])
    theirs = side(base, "b", 3, status="on_scene", status_log=[start, {"status": "on_scene", "at": "2026-11-25T07:20:00Z"}])
    result = merge(base, ours, theirs)
    assert result.clean
    assert [e["status"] for e in result.record["data"]["status_log"]] == ["received", "dispatched", "on_scene"]
    assert result.record["data"]["status"] == "on_scene"


def test_a_review_on_a_base_the_other_side_changed_does_not_carry():
    approved = {**side(CALL, "lead", 2), "review": {"state": "approved"}}
    corrected = side(CALL, "vol", 2, reported_people=5)
    for ours, theirs in ((approved, corrected), (corrected, approved)):
        result = merge(CALL, ours, theirs)
        assert result.clean and "review" not in result.record and result.record["data"]["reported_people"] == 5
    # Nobody changed the content: the approval carries.
    assert merge(CALL, approved, side(CALL, "vol", 2)).record["review"] == {"state": "approved"}


# --- the same merge on server and phone ---------------------------------------------------------


def server_merge(base: dict, ours: dict, theirs: dict) -> dict | None:
    """The planner's merge: `ours` the server's current version, `theirs` pushed by a volunteer on `base`."""
    holdings = planner.Holdings(
        current={base["id"]: Current(ours["version"], planner.content_hash(ours), False)},
        revisions={(base["id"], base["version"]): {planner.content_hash(base): planner.Revision(False, base)},
                   (base["id"], ours["version"]): {planner.content_hash(ours): planner.Revision(False, ours)}},
        bound={}, held={}, tag_of={}, current_records={base["id"]: ours})
    made = planner.plan(sender="dev-b", role=Role.VOLUNTEER, records=[theirs], hashes=[planner.content_hash(theirs)],
                        holdings=holdings)
    [verdict] = made.verdicts
    return made.versions[verdict.merged].record if verdict.kind is VerdictKind.MERGED else None


def phone_merge(base: dict, ours: dict, theirs: dict) -> dict | None:
    """The phone's: `theirs` its edit waiting on `base`, `ours` pulled from the server."""
    doc = {"id": base["id"], "record": copy.deepcopy(theirs), "state": SyncState.PENDING.value, "history": [base],
           "acked_version": base["version"], "errors": []}
    reconcile.merge_pulled(doc, copy.deepcopy(ours))
    if doc["record"] == theirs:
        return None
    return doc["record"]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["call", "recovery"]).flatmap(disjoint_edits))
def test_the_server_and_the_phone_give_the_same_merge(edits):
    base, ours_data, theirs_data = edits
    ours, theirs = side(base, "phone-a", 2, **ours_data), side(base, "phone-b", 2, **theirs_data)
    on_server, on_phone = server_merge(base, ours, theirs), phone_merge(base, ours, theirs)
    assert on_server is not None and on_phone is not None
    assert content(on_server) == content(on_phone) == content(merge(base, ours, theirs).record)
    assert on_server.get("review") == on_phone.get("review")
    if "merged_from" in on_phone:  # (a phone whose edit changed nothing just takes the pulled version)
        assert on_server["merged_from"] == on_phone["merged_from"]


def test_the_server_and_the_phone_both_leave_a_true_conflict_apart():
    ours, theirs = side(CALL, "a", 2, reported_people=7), side(CALL, "b", 2, reported_people=9)
    assert server_merge(CALL, ours, theirs) is None and phone_merge(CALL, ours, theirs) is None
