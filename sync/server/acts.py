"""The operator's acts: an append-only, hash-chained log of what sets devices, bindings and settings.

The team chains (chain.py) cover what phones sent. What the operator does is in no
version: enrolling a device (its team, role and token hash), revoking one, moving an
installation to another enrolled device, a team's settings, a schema migration. Each
is written to `acts` in the same transaction as the act itself, linked to the one
before, so `fieldapp-server verify` replays the log and names every row of `devices`,
`installations`, `teams` (its settings) and `schema_migrations` that disagrees.

A link, format `fieldapp-acts/1`, canonical JSON as chain.py writes it:

    link = SHA-256(canonical JSON of ["fieldapp-acts/1", seq, previous, kind, at, body])

`seq` counts from 1 over the whole server (a device may move between teams);
`previous` is the link of seq - 1 (chain.GENESIS for seq 1); `body` is the act's
JSON object; `at` the server's clock. The last link and seq are kept on the one
row of `acts_head`, locked by each act, so acts follow commit order.

Migration 8 started the log on databases that existed before it: it wrote one
`seeded` act for each row it found in those tables. What was stored then is taken
as found; everything since is attested.

Pure: no database here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .chain import GENESIS, canonical_json, sha256_hex

FORMAT = "fieldapp-acts/1"
SINCE_MIGRATION = 8  # the migration that started the log


class ActKind(StrEnum):
    ENROLL = "enroll"  # {device_id, team, role, token_hash}: a device added, or given a new token
    REVOKE = "revoke"  # {device_id}: its token stops working (at: revoked_at)
    TEAM_SETTINGS = "team settings"  # {team, volunteers_see_personal}
    INSTALLATIONS_BOUND = "installations bound"  # {team, enrolled_device, installations}
    MIGRATION = "migration applied"  # {version, name, applied_at}
    SEEDED = "seeded"  # {table, row}: a row found stored when migration 8 started the log
    PHOTO_RECEIVED = "photo received"  # PHOTO_COLUMNS: a photo's bytes checked, its team's row written


# The tables the log covers, and each one's key columns.
DEVICES, INSTALLATIONS, TEAMS, MIGRATIONS = "devices", "installations", "teams", "schema_migrations"
DEVICE_COLUMNS = ("device_id", "team", "role", "token_hash", "created_at", "revoked_at")
INSTALLATION_COLUMNS = ("team", "device_id", "enrolled_device", "bound_at")
MIGRATION_COLUMNS = ("version", "name", "applied_at")
PHOTOS = "photos"
PHOTO_COLUMNS = ("team", "sha256", "size", "media_type", "sent_by", "received_at")


def link(previous: str, seq: int, kind: str, at: str, body: Mapping[str, Any]) -> str:
    return sha256_hex(canonical_json([FORMAT, int(seq), previous, str(kind), at, dict(body)]))


@dataclass(frozen=True)
class Disagreement:
    """A stored row that is not what the acts give: its table, its key, the column (or the row's absence)."""

    table: str
    key: str
    column: str | None  # None: the whole row (added, or deleted)
    detail: str

    def __str__(self) -> str:
        where = f"{self.table} row {self.key}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.detail}"


@dataclass(frozen=True)
class LogBreak:
    """The first act whose link does not recompute, or a gap in the log."""

    seq: int
    what: str

    def __str__(self) -> str:
        return f"operator acts, seq {self.seq}: {self.what}"


@dataclass(frozen=True)
class Tables:
    """The covered tables as read together, and the acts' head they were read at."""

    head: tuple[int, str]
    devices: list[tuple]
    installations: list[tuple]
    settings: list[tuple]
    migrations: list[tuple]
    photos: list[tuple] = field(default_factory=list)


@dataclass(frozen=True)
class Verdict:
    """The acts log replayed: how many acts, its head, since when, and what disagrees."""

    count: int
    last_seq: int
    head: str
    seeded_at: str | None
    problem: LogBreak | None
    disagreements: list[Disagreement]

    @property
    def whole(self) -> bool:
        return self.problem is None and not self.disagreements


@dataclass
class State:
    """What the tables must hold after the acts replayed so far."""

    devices: dict[str, dict[str, Any]] = field(default_factory=dict)
    bindings: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)  # (team, inst) -> (device, at)
    settings: dict[str, bool] = field(default_factory=dict)  # team -> volunteers_see_personal
    migrations: dict[int, tuple[str, str]] = field(default_factory=dict)  # version -> (name, applied_at)
    seeded_at: str | None = None  # when migration 8 started the log
    photos: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (team, sha256) -> its row

    def apply(self, kind: str, at: str, body: Mapping[str, Any]) -> None:
        """One act, as the SQL it was written with changed the tables."""
        if kind == ActKind.ENROLL:
            known = self.devices.get(body["device_id"])
            created = known["created_at"] if known else at
            self.devices[body["device_id"]] = {"device_id": body["device_id"], "team": body["team"],
                                               "role": body["role"], "token_hash": body["token_hash"],
                                               "created_at": created, "revoked_at": None}
        elif kind == ActKind.REVOKE:
            known = self.devices.get(body["device_id"])
            if known is not None and known["revoked_at"] is None:
                known["revoked_at"] = at
        elif kind == ActKind.TEAM_SETTINGS:
            self.settings[body["team"]] = bool(body["volunteers_see_personal"])
        elif kind == ActKind.INSTALLATIONS_BOUND:
            for installation in body["installations"]:
                self.bindings[(body["team"], installation)] = (body["enrolled_device"], at)
        elif kind == ActKind.PHOTO_RECEIVED:
            self.photos[(body["team"], body["sha256"])] = {c: body[c] for c in PHOTO_COLUMNS}
        elif kind == ActKind.MIGRATION:
            self.migrations[int(body["version"])] = (body["name"], body["applied_at"])
        elif kind == ActKind.SEEDED:
            self.seeded_at = self.seeded_at or at
            table, row = body["table"], body["row"]
            if table == DEVICES:
                self.devices[row["device_id"]] = {c: row[c] for c in DEVICE_COLUMNS}
            elif table == INSTALLATIONS:
                self.bindings[(row["team"], row["device_id"])] = (row["enrolled_device"], row["bound_at"])
            elif table == TEAMS:
                self.settings[row["team"]] = bool(row["volunteers_see_personal"])
            elif table == MIGRATIONS:
                self.migrations[int(row["version"])] = (row["name"], row["applied_at"])
        else:
            raise ValueError(f"unknown act {kind!r}")


def replay(rows: Iterable[tuple[int, str, str, str, str | None]]) -> tuple[State, int, str, LogBreak | None]:
    """Acts (seq, kind, at, body text, link) in seq order: the state, the last seq and link, the first break."""
    state, previous, expected = State(), GENESIS, 1
    for seq, kind, at, text, stored in rows:
        if seq != expected:
            return state, expected - 1, previous, LogBreak(expected, f"act missing (deleted): the next stored act is "
                                                                     f"seq {seq}")
        try:
            body = _json_object(text)
            computed = link(previous, seq, kind, at, body)
        except (ValueError, TypeError, KeyError):
            return state, expected - 1, previous, LogBreak(seq, "its body is not a JSON object (edited)")
        if computed != stored:
            return state, expected - 1, previous, LogBreak(seq, f"{kind}: the act no longer gives its link (edited)")
        try:
            state.apply(kind, at, body)
        except (ValueError, TypeError, KeyError):
            return state, expected - 1, previous, LogBreak(seq, f"{kind}: an act the replay cannot read")
        previous, expected = stored, expected + 1
    return state, expected - 1, previous, None


def _json_object(text: str) -> dict:
    import json

    body = json.loads(text)
    if not isinstance(body, dict):
        raise ValueError("not an object")
    return body


# --- the tables against the replay ------------------------------------------------------------


def compare_devices(state: State, rows: Iterable[tuple], team: str | None = None) -> list[Disagreement]:
    """`devices` rows (DEVICE_COLUMNS) against the acts; `team`: only the devices of that team (stored or given)."""
    found: list[Disagreement] = []
    stored = {row[0]: dict(zip(DEVICE_COLUMNS, row)) for row in rows}
    for device_id in sorted(set(stored) | set(state.devices)):
        have, want = stored.get(device_id), state.devices.get(device_id)
        if team is not None and team not in {(have or {}).get("team"), (want or {}).get("team")}:
            continue
        if want is None:
            found.append(Disagreement(DEVICES, device_id, None, "no act enrolled this device (added)"))
        elif have is None:
            found.append(Disagreement(DEVICES, device_id, None, f"enrolled in team {want['team']} by the acts, "
                                                                f"but no row (deleted)"))
        else:
            found += _columns(DEVICES, device_id, have, want, DEVICE_COLUMNS[1:])
    return found


def compare_installations(expected: Mapping[tuple[str, str], tuple[str, str]], rows: Iterable[tuple],
                          teams: set[str] | None = None) -> list[Disagreement]:
    """`installations` rows (INSTALLATION_COLUMNS) against the bindings the acts and the chains give."""
    found: list[Disagreement] = []
    stored = {(row[0], row[1]): (row[2], row[3]) for row in rows}
    for key in sorted(set(stored) | set(expected)):
        if teams is not None and key[0] not in teams:
            continue
        name = f"{key[0]}/{key[1]}"
        have, want = stored.get(key), expected.get(key)
        if want is None:
            found.append(Disagreement(INSTALLATIONS, name, None, "neither an act nor a stored version of the "
                                                                 "installation bound it (added)"))
        elif have is None:
            found.append(Disagreement(INSTALLATIONS, name, None, f"bound to {want[0]}, but no row (deleted)"))
        else:
            found += _columns(INSTALLATIONS, name, {"enrolled_device": have[0], "bound_at": have[1]},
                              {"enrolled_device": want[0], "bound_at": want[1]}, ("enrolled_device", "bound_at"))
    return found


def compare_settings(state: State, rows: Iterable[tuple[str, Any]], team: str | None = None) -> list[Disagreement]:
    """`teams` rows (team, volunteers_see_personal): a team no act set holds the default, False."""
    found: list[Disagreement] = []
    stored = {name: bool(value) for name, value in rows}
    for name in sorted(set(stored) | set(state.settings)):
        if team is not None and name != team:
            continue
        want = state.settings.get(name, False)
        if name not in stored:
            if name in state.settings:
                found.append(Disagreement(TEAMS, name, None, f"the acts set volunteers_see_personal {want}, "
                                                             f"but the team has no row (deleted)"))
        elif stored[name] != want:
            found.append(Disagreement(TEAMS, name, "volunteers_see_personal",
                                      f"{stored[name]}, the acts give {want} (edited)"))
    return found


def compare_photos(state: State, rows: Iterable[tuple], team: str | None = None) -> list[Disagreement]:
    """`photos` rows (PHOTO_COLUMNS) against the photos' arrivals the acts logged."""
    found: list[Disagreement] = []
    stored = {(row[0], row[1]): dict(zip(PHOTO_COLUMNS, row)) for row in rows}
    for key in sorted(set(stored) | set(state.photos)):
        if team is not None and key[0] != team:
            continue
        name = f"{key[0]}/{key[1]}"
        have, want = stored.get(key), state.photos.get(key)
        if want is None:
            found.append(Disagreement(PHOTOS, name, None, "no act logged this photo's arrival (added)"))
        elif have is None:
            found.append(Disagreement(PHOTOS, name, None, "its arrival is logged, but no row (deleted)"))
        else:
            have = {**have, "size": int(have["size"])}
            found += _columns(PHOTOS, name, have, want, PHOTO_COLUMNS[2:])
    return found


def compare_migrations(state: State, rows: Iterable[tuple]) -> list[Disagreement]:
    found: list[Disagreement] = []
    stored = {int(row[0]): {"name": row[1], "applied_at": row[2]} for row in rows}
    for version in sorted(set(stored) | set(state.migrations)):
        have, want = stored.get(version), state.migrations.get(version)
        if want is None:
            found.append(Disagreement(MIGRATIONS, str(version), None, "no act applied this migration (added)"))
        elif have is None:
            found.append(Disagreement(MIGRATIONS, str(version), None, "applied by the acts, but no row (deleted)"))
        else:
            found += _columns(MIGRATIONS, str(version), have, {"name": want[0], "applied_at": want[1]},
                              ("name", "applied_at"))
    return found


def _columns(table: str, key: str, have: Mapping[str, Any], want: Mapping[str, Any],
             columns: Iterable[str]) -> list[Disagreement]:
    return [Disagreement(table, key, column, _differs(column, have[column], want[column]))
            for column in columns if have[column] != want[column]]


def _differs(column: str, have: Any, want: Any) -> str:
    if column == "token_hash":  # not printed: a token's hash is the key to its device
        return "not the token hash the acts give (edited)"
    return f"{have!r}, the acts give {want!r} (edited)"


def role_history(rows: Iterable[tuple[int, str, str, str, str | None]]) -> dict[str, list[tuple[str, str]]]:
    """Each device's roles as the acts (seq, kind, at, body text, link) set them, in order: [(at, role)].

    For the replay of settlements (derived.py); `replay` checks the same acts' links.
    """
    import json

    roles: dict[str, list[tuple[str, str]]] = {}
    for _seq, kind, at, text, _link in rows:
        body = json.loads(text)
        if kind == ActKind.ENROLL:
            roles.setdefault(body["device_id"], []).append((at, body["role"]))
        elif kind == ActKind.SEEDED and body["table"] == DEVICES:
            roles.setdefault(body["row"]["device_id"], []).append(("", body["row"]["role"]))
    return roles


def role_at(history: Mapping[str, list[tuple[str, str]]], device_id: str, when: str) -> str | None:
    """A device's role at a time: the last act at or before it (the first known, for a time before any act)."""
    entries = history.get(device_id)
    if not entries:
        return None
    role = entries[0][1]
    for at, given in entries:
        if at <= when:
            role = given
    return role
