"""The teams' hash chains: the exact bytes of a link, and the walk that checks a chain.

Pure: no database and no files here. The server's push, `fieldapp-server verify`,
the bundle export and `fieldapp-server verify-bundle` all use these functions, so
there is one definition of a link (docs/evidence.md, "Tamper evidence", gives it
for an investigator to recompute with any SHA-256 tool).

A link, chain format `fieldapp-chain/1`. All hashes are SHA-256 in lower-case hex;
"canonical JSON" is JSON with keys sorted, no spaces (separators `,` and `:`),
non-ASCII characters as themselves, UTF-8 (Python: json.dumps(x, sort_keys=True,
separators=(",", ":"), ensure_ascii=False)); the stored record text is already
canonical JSON.

    public    = the version with its personal fields (PERSONAL_PATHS) removed
    personal  = {path: value} of those personal fields it has, e.g. {"data.name": "..."}
    public_digest   = SHA-256(canonical JSON of public)
    personal_digest = SHA-256(canonical JSON of [salt, personal])
    link = SHA-256(canonical JSON of
           ["fieldapp-chain/1", team, seq, previous, id, version, sent_by, received_at,
            public_digest, personal_digest])

Chain format `fieldapp-chain/2` (every version stored since migration 6) also commits to
the version's day, so a day's bundle proves that no version of its day is missing:

    link = SHA-256(canonical JSON of
           ["fieldapp-chain/2", team, seq, previous, id, version, sent_by, received_at,
            day, public_digest, personal_digest])

`day` is the version's day as the exports count days (a call's received_at day, a
recovery's recovered_at day, YYYY-MM-DD in the time's own offset:
fieldapp.core.figures.record_day), or null. A version stored before keeps its format 1
link (a head written down stays valid); each row says its format.

`previous` is the link of the team's previous version (seq - 1), or GENESIS for
seq 1; `seq` and `version` are JSON integers, everything else a string; `salt` is 32
random hex digits the server draws for each version and keeps on its row. A version
with no personal field has public = the whole version, so public_digest is then the
SHA-256 of its stored text.

Why two digests: a bundle without personal fields carries each version's public
part and its personal_digest, and the chain still recomputes; the salt keeps the
personal_digest from confirming a guessed name or phone number. Why the salt is
not in the public part: it travels only with the personal fields (--include-personal).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

FORMAT = "fieldapp-chain/1"
FORMAT_2 = "fieldapp-chain/2"
FORMATS = {1: FORMAT, 2: FORMAT_2}
CURRENT_FORMAT = 2  # the format of every link a push makes now
GENESIS = "0" * 64

# The personal fields of chain format 1, frozen: changing this list changes every
# link of a record that has them, so a new personal field needs a new chain format.
# (The exports' list, fieldapp.core.exports.PERSONAL_DATA_FIELDS, must stay within it:
# tests/server/test_chain.py checks.)
PERSONAL_PATHS: tuple[str, ...] = (
    "data.caller_phone", "data.name", "data.notes", "data.photos", "data.handover.receiver", "review.note",
)
# A stored text without any of these has no personal field (JSON escapes every
# quote inside a string, so `"name":` in the text is always a key).
_MARKERS = tuple(dict.fromkeys('"' + path.rsplit(".", 1)[-1] + '":' for path in PERSONAL_PATHS))
# (path, its parents, its name, its key as canonical JSON writes it), split once.
_PATHS = tuple((path, tuple(path.split(".")[:-1]), path.split(".")[-1], '"' + path.split(".")[-1] + '":')
               for path in PERSONAL_PATHS)


# One encoder made once: json.dumps with options builds a new one at every call.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> str:
    return _ENCODER.encode(value)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def new_salt() -> str:
    return secrets.token_hex(16)


def new_salts(count: int) -> list[str]:
    """`count` salts from one draw of the system's random source."""
    drawn = secrets.token_hex(16 * count)
    return [drawn[k:k + 32] for k in range(0, 32 * count, 32)]


def has_personal(record: Mapping[str, Any]) -> bool:
    for _, parents, name, _ in _PATHS:
        holder: Any = record
        for parent in parents:
            holder = holder.get(parent) if isinstance(holder, dict) else None
        if isinstance(holder, dict) and name in holder:
            return True
    return False


def is_plain(text: str) -> bool:
    """Whether a stored text has no personal field (its public digest is then its own SHA-256)."""
    return not any(marker in text for marker in _MARKERS)


def split_personal(record: Mapping[str, Any]) -> tuple[dict, dict]:
    """(public, personal): the version without its personal fields, and those fields by path."""
    public = dict(record)
    personal: dict[str, Any] = {}
    for path in PERSONAL_PATHS:
        *parents, name = path.split(".")
        # Copy each dict on the way down, so the caller's record is never changed.
        holder: Any = public
        for parent in parents:
            child = holder.get(parent) if isinstance(holder, dict) else None
            if not isinstance(child, dict):
                holder = None
                break
            child = dict(child)
            holder[parent] = child
            holder = child
        if isinstance(holder, dict) and name in holder:
            personal[path] = holder.pop(name)
    return public, personal


def without_personal(record: Mapping[str, Any]) -> dict:
    return split_personal(record)[0]


_HEX = re.compile(r"[0-9a-f]*")
# A JSON string as the canonical encoder writes it (quotes, escapes, non-ASCII as is).
_string = json.encoder.encode_basestring


def personal_digest(salt: str, personal: Mapping[str, Any]) -> str:
    if not personal and _HEX.fullmatch(salt):
        # The same bytes as canonical_json([salt, {}]), without the encoder's overhead.
        return sha256_hex('["' + salt + '",{}]')
    return sha256_hex(canonical_json([salt, dict(personal)]))


def digests(record_json: str | Mapping[str, Any], salt: str) -> tuple[str, str]:
    """(public_digest, personal_digest) of one version: its stored text, or the parsed record."""
    if isinstance(record_json, str):
        if not any(marker in record_json for marker in _MARKERS):
            return sha256_hex(record_json), personal_digest(salt, {})
        # The stored text is canonical JSON: cut the personal members out of it.
        return digests_of_stored(json.loads(record_json), record_json, salt)
    public, personal = split_personal(record_json)
    return sha256_hex(canonical_json(public)), personal_digest(salt, personal)


def digests_of_stored(record: Mapping[str, Any], text: str, salt: str) -> tuple[str, str]:
    """digests(record, salt) for a record whose canonical JSON `text` is at hand (the push has it).

    The same values, faster: the public part's canonical JSON is `text` with each
    personal `"key":value` member cut out (keys are sorted and unique, so the member
    and one comma go and the rest stays canonical). Where a key is not found exactly
    once, the long way.
    """
    personal: dict[str, Any] = {}
    public = text
    if not any(marker in text for marker in _MARKERS):  # no personal field: the text is the public part
        return sha256_hex(text), personal_digest(salt, personal)
    for path, parents, name, key in _PATHS:
        holder: Any = record
        for parent in parents:
            holder = holder.get(parent) if isinstance(holder, dict) else None
        if not isinstance(holder, dict) or name not in holder:
            continue
        personal[path] = value = holder[name]
        member = key + canonical_json(value)
        at = public.find(member)
        if at < 0 or public.count(key) != 1:
            return digests(record, salt)
        end = at + len(member)
        if public[at - 1] == ",":
            public = public[:at - 1] + public[end:]
        elif public[end] == ",":
            public = public[:at] + public[end + 1:]
        else:
            public = public[:at] + public[end:]
    return sha256_hex(public), personal_digest(salt, personal)


def version_day(record: Mapping[str, Any]) -> str | None:
    """The day a version belongs to, as the exports and a day's bundle count it (None if it has none)."""
    from fieldapp.core.figures import record_day

    try:
        return record_day(record)
    except Exception:  # a record the day rule cannot read is not of any day
        return None


def link_from_digests(previous: str, *, team: str, seq: int, record_id: str, version: int, sent_by: str,
                      received_at: str, public_digest: str, personal_digest: str, chain_format: int = 1,
                      day: str | None = None) -> str:
    # canonical_json([FORMAT, team, seq, previous, record_id, version, sent_by, received_at,
    #                 (format 2: day,) public_digest, personal_digest]), written out: the same bytes, faster.
    parts = [_string(FORMATS[chain_format]), _string(team), str(int(seq)), _string(previous), _string(record_id),
             str(int(version)), _string(sent_by), _string(received_at)]
    if chain_format == 2:
        parts.append("null" if day is None else _string(day))
    message = ",".join(parts + [_string(public_digest), _string(personal_digest)])
    return sha256_hex("[" + message + "]")


def link(previous: bytes | str, record_json: str | Mapping[str, Any], sent_by: str, received_at: str, seq: int, *,
         team: str, salt: str, chain_format: int = 1) -> str:
    """The link of one version: `previous` is the team's previous link (GENESIS for seq 1)."""
    if isinstance(previous, bytes):
        previous = previous.hex() if len(previous) == 32 else previous.decode("ascii")
    record = json.loads(record_json) if isinstance(record_json, str) else record_json
    public, private = digests(record_json, salt)
    return link_from_digests(previous, team=team, seq=seq, record_id=str(record["id"]), version=int(record["version"]),
                             sent_by=sent_by, received_at=received_at, public_digest=public, personal_digest=private,
                             chain_format=chain_format, day=version_day(record) if chain_format == 2 else None)


# --- walking a chain ---------------------------------------------------------------------------


class Row(NamedTuple):
    """One version as a chain walk sees it: what its link covers, and the link stored for it."""

    seq: int
    record_id: str
    version: int
    sent_by: str
    received_at: str
    public_digest: str
    personal_digest: str
    link: str | None
    note: str = ""  # something else found wrong with the row, said when its link fails
    chain_format: int = 1
    day: str | None = None  # what a format 2 link commits to

    def link_at(self, previous: str, team: str, seq: int | None = None) -> str:
        return link_from_digests(previous, team=team, seq=self.seq if seq is None else seq, record_id=self.record_id,
                                 version=self.version, sent_by=self.sent_by, received_at=self.received_at,
                                 public_digest=self.public_digest, personal_digest=self.personal_digest,
                                 chain_format=self.chain_format, day=self.day)


@dataclass(frozen=True)
class Break:
    """The first place a chain is not whole."""

    team: str
    seq: int
    record_id: str | None
    version: int | None
    what: str  # content edited | link edited | row missing | rows reordered | head mismatch | link missing
    detail: str

    def __str__(self) -> str:
        where = f"team {self.team}, seq {self.seq}"
        if self.record_id is not None:
            where += f" (record {self.record_id} version {self.version})"
        return f"{where}: {self.what}: {self.detail}"


@dataclass(frozen=True)
class Walked:
    """A whole chain: how many versions, and its last link."""

    team: str
    count: int
    last_seq: int
    head: str


LOOK_AHEAD = 1000  # rows read past a broken link to tell a reordering from an edit


def walk(team: str, rows: Iterable[Row], *, head: tuple[int, str] | None = None) -> Walked | Break:
    """Check one team's chain, rows in seq order from seq 1; memory stays bounded.

    `head`: (seq, link) the chain must end at (the teams row's, or a bundle manifest's).
    Returns the whole chain's summary, or the first break, named.
    """
    it = iter(rows)
    previous, expected, count = GENESIS, 1, 0
    for row in it:
        if row.seq != expected:
            missing = f"seq {expected}" if row.seq == expected + 1 else f"seqs {expected} to {row.seq - 1}"
            return Break(team, expected, None, None, "row missing",
                         f"{missing} not found (deleted); the next stored row is seq {row.seq}")
        if row.link is None:
            return Break(team, row.seq, row.record_id, row.version, "link missing", "the row has no link")
        computed = row.link_at(previous, team)
        if computed != row.link:
            ahead = list(itertools.islice(it, LOOK_AHEAD))
            return _diagnose(team, previous, row, computed, ahead, head)
        previous, expected, count = row.link, expected + 1, count + 1
    last = expected - 1
    if head is not None:
        head_seq, head_link = head
        if head_seq > last:
            missing = f"seq {head_seq}" if head_seq == last + 1 else f"seqs {last + 1} to {head_seq}"
            return Break(team, last + 1, None, None, "row missing",
                         f"{missing} not found (deleted): the head says seq {head_seq}, the chain ends at seq {last}")
        if head_seq < last or head_link != previous:
            return Break(team, last, None, None, "head mismatch",
                         f"the head (seq {head_seq}, link {head_link}) is not the chain's last link "
                         f"(seq {last}, link {previous})")
    return Walked(team, count, last, previous)


def _diagnose(team: str, previous: str, row: Row, computed: str, ahead: list[Row], head) -> Break:
    n = row.seq

    def name(what: str, detail: str) -> Break:
        return Break(team, n, row.record_id, row.version, what, detail + (f" ({row.note})" if row.note else ""))

    for other in ahead:
        fits = other.link_at(previous, team, seq=n)
        if fits == row.link:
            return name("rows reordered", f"the version linked at seq {n} is stored at seq {other.seq} "
                                          f"(record {other.record_id} version {other.version}): rows swapped")
        if fits == other.link:
            return name("rows reordered", f"the row stored at seq {other.seq} (record {other.record_id} "
                                          f"version {other.version}) was linked at seq {n}: rows moved")
    nxt = ahead[0] if ahead and ahead[0].seq == n + 1 else None
    if nxt is not None:
        link_kept = nxt.link_at(row.link, team) == nxt.link if row.link else False
        content_kept = nxt.link_at(computed, team) == nxt.link
    else:
        link_kept = head is not None and head[0] == n and head[1] == row.link
        content_kept = head is not None and head[0] == n and head[1] == computed
    if link_kept:
        return name("content edited", "the stored version (its record, sender or arrival) no longer gives its link")
    if content_kept:
        return name("link edited", "the stored link is not the one the version gives; the version itself is intact")
    return name("content edited", "the stored version no longer gives its link, and the link stored with it "
                                  "does not lead to the next one (rewritten and relinked)")
