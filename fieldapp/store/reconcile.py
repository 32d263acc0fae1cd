"""What the server's answers do to a stored record: verdicts, pulled versions, doubles.

Pure: plain documents in, documents changed in place, no files. The store
applies these inside its durable writes; every case is tested on its own
(tests/store/test_reconcile.py), the way the server's verdict rule is.

The rules that protect the data:
- a record counts as sent only on the server's verdict for that exact version;
- a pulled version never overwrites a version not yet sent: it is kept in history; where
  both built on the same base they are merged field by field (fieldapp.core.merge, the
  function the server merges with), and the edit waiting becomes the merge, built on the
  pulled version; only a field both changed to different values leaves them apart;
- a version the server stored without the review it carried (`review_cleared`) is kept
  so here too, and a merge the server made of it (`merged_record`) is taken as pulled;
- a conflict keeps both sides for a team lead;
- two copies of one record fold into one that loses no version.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fieldapp.core.merge import content, merge, merged_version
from fieldapp.core.protocol import SENT_STATUSES, VerdictStatus
from fieldapp.core.records import InvalidRecord, normalize

from .document import SyncState, copy_json, new_document


def apply_verdict(doc: dict, verdict: Mapping[str, Any]) -> None:
    """Apply the server's verdict on one version.

    A verdict is for one version: if the record was edited since, the newer
    version stays pending (and now builds on the acknowledged one).
    """
    status = verdict.get("status")
    version = verdict.get("version")
    current = doc["record"]
    if status in SENT_STATUSES:
        doc["acked_version"] = max(doc.get("acked_version", 0), version)
        if verdict.get("review_cleared"):
            # Its content changed, so the server holds it unreviewed: back to the lead.
            for held in (current, *doc.get("history", [])):
                if held["version"] == version:
                    held.pop("review", None)
        if current["version"] == version:
            doc["state"] = SyncState.SENT.value
            doc["errors"] = []
        elif current["version"] > version and current["base_version"] < version and doc["state"] == SyncState.PENDING:
            # Edited while in flight: the newer version builds on the one just acknowledged.
            current["base_version"] = version
    elif status == VerdictStatus.REJECTED and current["version"] == version:
        doc["state"] = SyncState.REJECTED.value
        doc["errors"] = [dict(e) for e in verdict.get("errors") or []]
    elif status == VerdictStatus.CONFLICT and current["version"] == version:
        mark_conflict(doc, verdict.get("server_record"))
    merged = verdict.get("merged_record")
    if status in SENT_STATUSES and isinstance(merged, dict):
        merge_pulled(doc, dict(merged))


def pulled_document(record: dict, device_id: str) -> dict:
    """The document of a record first seen in a pull: the server holds it, so it is sent."""
    return new_document(record, state=SyncState.SENT, acked_version=record["version"],
                        mine=record["device_id"] == device_id)


def merge_pulled(doc: dict, record: dict, *, merging: bool = True) -> None:
    """Fold one pulled version into a stored record, never overwriting an unsent edit.

    `merging`: a newer version meeting an edit waiting on the same base is merged into it
    (`merge_edit`); off where the pulled version may be a conflict's side, not the server's.
    """
    current = doc["record"]
    if record in doc.get("history", []) and doc["state"] == SyncState.PENDING and record["device_id"] == current["device_id"] \
            and record["version"] < current["version"]:
        # An earlier version of this device's own, back from the server: it holds it,
        # as a lost verdict would have said; the edit waiting now builds on it.
        apply_verdict(doc, {"status": VerdictStatus.ACCEPTED, "version": record["version"]})
        return
    if record == current or record in doc.get("history", []) or record == doc.get("server_record"):
        return
    state = doc["state"]
    if state == SyncState.SENT and record["version"] > current["version"]:
        doc["history"] = doc.get("history", []) + [current]
        doc["record"] = record
        doc["acked_version"] = record["version"]
    elif state == SyncState.CONFLICT:
        server = doc.get("server_record") or {}
        if record["version"] > max(current["version"], server.get("version", 0)) and record["base_version"] >= server.get("version", 0):
            # Resolved elsewhere: the conflict is closed by a newer version on the server.
            doc["history"] = doc.get("history", []) + [current]
            doc["record"] = record
            doc["acked_version"] = record["version"]
            doc["state"] = SyncState.SENT.value
            doc["server_record"] = None
        else:
            doc["history"] = doc.get("history", []) + [record]
    elif merging and state == SyncState.PENDING and merge_edit(doc, record):
        pass
    else:
        # Our pending or refused version stays; the other one is kept as history.
        doc["history"] = doc.get("history", []) + [record]


def merge_edit(doc: dict, pulled: dict) -> bool:
    """Merge a pulled version into the edit waiting to be sent, as the server would; False if they conflict.

    The edit becomes the merge (built on the pulled version, so the server takes it as a
    plain edit); the edit as it was goes into history, as does the pulled version.
    """
    current = doc["record"]
    base_version = current["base_version"]
    if not base_version or pulled["version"] <= base_version or pulled.get("type") != current.get("type"):
        return False
    bases = [h for h in doc.get("history", []) if h["version"] == base_version]
    if len(bases) != 1:
        return False
    result = merge(bases[0], pulled, current)
    if not result.clean:
        return False
    history = doc.get("history", []) + [pulled, current]
    if content(result.record) == content(pulled) and result.record.get("review") == pulled.get("review"):
        # The pulled version holds the edit already (the server merged it): nothing left to send.
        doc["record"], doc["state"], doc["errors"] = pulled, SyncState.SENT.value, []
        doc["history"] = history[:-2] + [current]
    else:
        try:
            # Two valid sides may make an invalid whole (a death time beside an outcome now rescued).
            doc["record"] = normalize(merged_version(result, pulled, current, device_id=current["device_id"]))
        except InvalidRecord:
            return False
        doc["history"] = history
    doc["acked_version"] = max(doc.get("acked_version", 0), pulled["version"])
    return True


def merge_page(doc: dict, versions: list[dict], page: list[dict], conflicts: Mapping[str, Any]) -> None:
    """Fold a pull page's versions of one record into its document, and the server's note if it is in conflict."""
    for record in versions:
        # A record in conflict on the server: its versions are sides, none to merge an edit into.
        merge_pulled(doc, record, merging=doc["id"] not in conflicts)
    if doc["id"] in conflicts:
        server = conflicts[doc["id"]]
        mark_conflict(doc, dict(server), other_side(page, doc["id"], server))


def other_side(batch: Iterable[dict], record_id: str, server_record: Mapping) -> dict | None:
    """The last pulled version of a record in conflict that is not the server's current one."""
    others = [r for r in batch if r["id"] == record_id and r != server_record]
    return others[-1] if others else None


def mark_conflict(doc: dict, server_record: dict | None, ours: dict | None = None) -> None:
    """Keep both sides: `record` is the side to reconcile, `server_record` the server's current."""
    if server_record is None:
        return
    if ours is not None and ours != doc["record"]:
        history = [h for h in doc.get("history", []) if h != ours]
        doc["history"] = history + [doc["record"]] if doc["record"] != server_record else history
        doc["record"] = ours
    if doc["record"] == server_record:
        return  # we hold only the server's side: nothing to reconcile here
    doc["state"] = SyncState.CONFLICT.value
    doc["errors"] = []
    doc["server_record"] = server_record


# Which copy a fold builds on: a copy still waiting for someone (pending, refused,
# in conflict) holds work the server has not got; a sent copy only what it has.
_TIE_ORDER = {SyncState.SENT: 0, SyncState.PENDING: 1, SyncState.REJECTED: 2, SyncState.CONFLICT: 3}


def fold_copies(copies: list[dict]) -> dict:
    """One document from several copies of the same record (a store that held it twice).

    The fold builds on the copy that still holds work the server has not got
    (the newest such, if several), else on the newest sent copy; every version
    the other copies hold is then merged in as a pulled version would be
    (`merge_pulled`), so an unsent edit stays pending, a conflict stays open,
    and what this device acknowledged is not claimed for what it never saw.
    Nothing is dropped: what does not become current goes into history.
    """
    if not copies:
        raise ValueError("no copies to fold")
    waiting = [d for d in copies if d["state"] != SyncState.SENT]
    base = max(waiting or copies, key=lambda d: (d["record"]["version"], _TIE_ORDER[SyncState(d["state"])]))
    kept = copy_json(base)
    for doc in copies:
        if doc is base:
            continue
        versions = [*doc.get("history", []), doc["record"]]
        if doc["state"] != SyncState.SENT:
            # Another copy's own unsent version: this device's work, never the server's.
            *versions, unsent = versions
            if unsent != kept["record"] and unsent not in kept.get("history", []):
                kept["history"] = kept.get("history", []) + [unsent]
        for version in sorted(versions, key=lambda r: r["version"]):
            merge_pulled(kept, copy_json(version), merging=False)  # a fold keeps every version as it was
    kept["history"] = sorted(kept.get("history", []), key=lambda r: (r["version"], r.get("updated_at", "")))
    kept["mine"] = any(d.get("mine", False) for d in copies)
    return kept
