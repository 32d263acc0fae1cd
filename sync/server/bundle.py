"""An investigator's bundle: one team's chain, the versions asked for, and a manifest, in a zip.

    fieldapp-server export --format bundle --team T [--day D] [--include-personal] --output FILE
    fieldapp-server verify-bundle FILE [--head LINK]

The zip (format `fieldapp-evidence-bundle/1`) holds, stored uncompressed and in this order:

- `manifest.json`: format, chain format, team, export time, day (or null), whether
  personal fields are in, the chain's count, first and last seq, its head (seq, link),
  how many versions `records.jsonl` carries (and their first and last seq), and the
  SHA-256 and size of the other files but the photos, and `photos` (below).
- `chain.jsonl`: one line per version of the team's chain, seq 1 to the head, whatever
  the day: seq, id, version, sent_by, received_at, public_digest, personal_digest, link
  (what the link covers but the previous link: see sync/server/chain.py). So the chain
  recomputes from GENESIS to the head with no record body at all.
- `records.jsonl`: the versions asked for (every version, or those of `--day`: a
  call's received_at day, a recovery's recovered_at day, as in the exports), one line
  each in seq order: seq, team, sent_by, received_at, the version whole as stored
  (`record`), and with --include-personal the version's `salt`. Without it the personal
  fields (chain.PERSONAL_PATHS) are left out of `record` and no salt is given: the
  version's public part still matches its chain line's public_digest, and its
  personal_digest cannot confirm a guessed name.
- With --include-personal, when the versions carried list photos (data.photos):
  `photos.jsonl`, one line per photo file they list (originals and previews), in hash
  order: sha256, bytes, media_type, held (whether the server held it at export); then
  `photos/<sha256>`, the bytes of each file held, in hash order. Without it the photos
  and their hashes are withheld with the other personal fields; the manifest's `photos`
  counts them either way (withheld, files, carried, not_held).

The manifest names the bundle's `scope`: "every version" (records.jsonl then holds a
line for every chain line, seq 1 to the head: verify-bundle fails on one missing) or
"day" (the versions of `day`). Limits verify-bundle holds to before reading anything:
every member stored (no compression: a deflate bomb is refused unread), the manifest
at most MAX_MANIFEST_BYTES, each line at most MAX_LINE_BYTES, each photo member at
most MAX_PHOTO_BYTES (the schema's limit for a photo file).

Every line is canonical JSON (chain.canonical_json) ending in a newline. The writer is
deterministic given the contents (fixed times and attributes in the zip), so
verify-bundle also rebuilds the zip from its members and requires the same bytes: a
byte changed anywhere in the file, not only in a member, is found.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from fieldapp.core.records import MAX_PHOTO_BYTES, photos_of

from . import chain

FORMAT = "fieldapp-evidence-bundle/1"
MANIFEST, CHAIN, RECORDS = "manifest.json", "chain.jsonl", "records.jsonl"
MEMBERS = (MANIFEST, CHAIN, RECORDS)
# With --include-personal, when the versions carried name a photo: the list of the photo
# files they name, then each file the server held, as `photos/<sha256>`, by hash.
PHOTOS_LIST, PHOTO_PREFIX = "photos.jsonl", "photos/"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 20
# What verify-bundle reads at most at once: the writer's manifest is about 1 KB, and a
# line is one version (a push body's cap is far below this).
MAX_MANIFEST_BYTES = 64 * 1024
MAX_LINE_BYTES = 1024 * 1024
EVERY_VERSION, DAY = "every version", "day"


def _line(value: Any) -> bytes:
    return (chain.canonical_json(value) + "\n").encode("utf-8")


def _info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    info.create_system = 3
    info.external_attr = 0o100644 << 16
    return info


def _write_zip(target: IO[bytes], members: Iterable[tuple[str, IO[bytes]]]) -> None:
    """The one way a bundle's zip is laid out: the writer and the verifier's rebuild both use it."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, source in members:
            with zf.open(_info(name), "w", force_zip64=False) as dest:
                shutil.copyfileobj(source, dest, _CHUNK)


_record_day = chain.version_day


@dataclass
class Written:
    path: Path
    manifest: dict


class PhotoDamaged(Exception):
    """The server's copy of a photo does not hash to the value its record lists: no bundle is written."""


def named_photos(record: dict) -> dict[str, tuple[int, str]]:
    """sha256 -> (size, media type) of every file a version names: each photo's original and its preview."""
    named: dict[str, tuple[int, str]] = {}
    for photo in photos_of(record):
        for file in (photo, photo.get("preview")):
            if isinstance(file, dict) and isinstance(file.get("sha256"), str):
                named[file["sha256"]] = (_int(file.get("size")), str(file.get("media_type")))
    return named


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


def _opened(sources: Iterable[tuple[str, Path]]) -> Iterator[tuple[str, IO[bytes]]]:
    """Each member's file open while it is written, one at a time (a bundle may carry thousands of photos)."""
    for name, path in sources:
        with open(path, "rb") as source:
            yield name, source


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def write_bundle(rows: Iterable[tuple], *, team: str, head: tuple[int, str], output: Path, day: str | None = None,
                 include_personal: bool = False, exported_at: str | None = None,
                 photo_path: Callable[[str], Path | None] | None = None) -> Written:
    """Write a bundle from the team's revisions in seq order, up to `head` (seq, link) read before them.

    `rows`: (seq, id, version, sent_by, received_at, record text, salt, link, ...) as
    Database.revision_rows gives them. `photo_path`: where the server holds a photo of the
    team by its hash (None: not held, not yet uploaded). Written to a temporary file beside
    `output`, then renamed.
    """
    output = Path(output)
    exported_at = exported_at or datetime.now(UTC).isoformat(timespec="seconds")
    named: dict[str, tuple[int, str]] = {}
    with tempfile.TemporaryDirectory(prefix="bundle-") as tmp:
        chain_path, records_path = Path(tmp) / CHAIN, Path(tmp) / RECORDS
        chain_hash, records_hash = hashlib.sha256(), hashlib.sha256()
        count, carried, first_carried, last_carried = 0, 0, None, None
        with open(chain_path, "wb") as chain_file, open(records_path, "wb") as records_file:
            for seq, rid, version, sent_by, received_at, text, salt, link, *rest in rows:
                if seq > head[0]:
                    break
                form = rest[3] if len(rest) > 3 else 1
                public, personal = chain.digests(text, salt or "")
                record = json.loads(text)
                line = {"seq": seq, "id": rid, "version": version, "sent_by": sent_by, "received_at": received_at,
                        "public_digest": public, "personal_digest": personal, "link": link}
                if form == 2:  # what its link commits to besides: its format and its day
                    line.update(chain_format=2, day=chain.version_day(record))
                data = _line(line)
                chain_file.write(data)
                chain_hash.update(data)
                count += 1
                if day is not None and _record_day(record) != day:
                    continue
                named.update(named_photos(record))
                entry: dict[str, Any] = {"seq": seq, "team": team, "sent_by": sent_by, "received_at": received_at}
                if include_personal:
                    entry["record"], entry["salt"] = record, salt
                else:
                    entry["record"] = chain.without_personal(record)
                data = _line(entry)
                records_file.write(data)
                records_hash.update(data)
                carried += 1
                first_carried = seq if first_carried is None else first_carried
                last_carried = seq
        files = {CHAIN: {"sha256": chain_hash.hexdigest(), "bytes": chain_path.stat().st_size},
                 RECORDS: {"sha256": records_hash.hexdigest(), "bytes": records_path.stat().st_size}}
        sources: list[tuple[str, Path]] = [(CHAIN, chain_path), (RECORDS, records_path)]
        held: list[tuple[str, Path]] = []
        if include_personal and named:
            # Photos are personal: their files (and their hashes, which could confirm a guessed
            # photo) go only into a bundle with the personal fields.
            list_path = Path(tmp) / PHOTOS_LIST
            with open(list_path, "wb") as list_file:
                for sha in sorted(named):
                    size, media_type = named[sha]
                    found = photo_path(sha) if photo_path is not None and _SHA256.fullmatch(sha) else None
                    if found is not None and not found.is_file():
                        found = None
                    if found is not None:
                        if _file_sha256(found) != sha:
                            raise PhotoDamaged(f"the server's copy of photo {sha} ({found}) does not hash to it: "
                                               f"run fieldapp-server verify; no bundle written")
                        held.append((PHOTO_PREFIX + sha, found))
                    list_file.write(_line({"sha256": sha, "bytes": size, "media_type": media_type,
                                           "held": found is not None}))
            files[PHOTOS_LIST] = {"sha256": _file_sha256(list_path), "bytes": list_path.stat().st_size}
            sources += [(PHOTOS_LIST, list_path), *held]
        manifest = {
            "format": FORMAT, "chain_format": chain.FORMAT, "team": team, "exported_at": exported_at,
            "scope": DAY if day is not None else EVERY_VERSION,
            "day": day, "include_personal": include_personal,
            "count": count, "first_seq": 1 if count else 0, "last_seq": head[0],
            "head": {"seq": head[0], "link": head[1]},
            "records": {"count": carried, "first_seq": first_carried, "last_seq": last_carried},
            "files": files,
            # files: the photo files the versions carried name (originals and previews); carried: those
            # in the bundle; not_held: those the server did not hold at export (not yet uploaded).
            "photos": {"withheld": not include_personal, "files": len(named), "carried": len(held),
                       "not_held": len(named) - len(held) if include_personal else 0},
            "check": "fieldapp-server verify-bundle FILE (docs/evidence.md, Tamper evidence)",
        }
        manifest_path = Path(tmp) / MANIFEST
        manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                                 encoding="utf-8")
        partial = output.with_name(output.name + ".partial")
        try:
            with open(partial, "wb") as target:
                _write_zip(target, _opened([(MANIFEST, manifest_path), *sources]))
                target.flush()
                os.fsync(target.fileno())
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        os.replace(partial, output)
    return Written(output, manifest)


# --- checking a bundle, with no database ----------------------------------------------------------


@dataclass
class Checked:
    ok: bool
    problem: str = ""
    manifest: dict = field(default_factory=dict)
    head_found_at: int | None = None  # the seq of the published head given with --head
    day_proof: str = ""  # for a day's bundle: what is proven of the day's completeness
    photos: dict = field(default_factory=dict)  # withheld, files, carried, not_held: as checked


class _Bad(Exception):
    pass


def _lines(zf: zipfile.ZipFile, name: str) -> Iterator[tuple[int, dict]]:
    """(line number, parsed object) of a member, each line canonical JSON."""
    with zf.open(name) as member:
        for number, raw in enumerate(iter(lambda: member.readline(MAX_LINE_BYTES + 1), b""), 1):
            if len(raw) > MAX_LINE_BYTES:
                raise _Bad(f"{name} line {number} is longer than {MAX_LINE_BYTES} bytes: refused unread")
            try:
                value = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                raise _Bad(f"{name} line {number} is not JSON") from None
            if not isinstance(value, dict) or raw != _line(value):
                raise _Bad(f"{name} line {number} is not a canonical JSON object")
            yield number, value


def verify_bundle(path: str | Path, *, published_head: str | None = None) -> Checked:
    """Check a bundle file: its members, their hashes, the chain from GENESIS to the head,
    every record against its chain line, and the zip's own bytes. The first problem, named."""
    try:
        return _verify(Path(path), published_head)
    except _Bad as bad:
        return Checked(False, str(bad))
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        return Checked(False, f"the zip is damaged: {exc}")
    except OSError as exc:
        return Checked(False, f"the bundle cannot be read: {exc.strerror or exc}")
    except Exception as exc:  # a damaged zip can fail zipfile in many ways
        return Checked(False, f"the zip is damaged: {type(exc).__name__}: {exc}")


def _verify(path: Path, published_head: str | None) -> Checked:
    with zipfile.ZipFile(path) as zf:
        names = tuple(zf.namelist())
        if names[:3] != MEMBERS or len(set(names)) != len(names) or names[3:4] not in ((), (PHOTOS_LIST,)):
            shown = list(names) if len(names) <= 8 else [*names[:8], "..."]
            raise _Bad(f"the bundle holds {shown}, not {list(MEMBERS)} (then {PHOTOS_LIST} and its photos)")
        photo_members = names[4:]
        for name in photo_members:
            if not (name.startswith(PHOTO_PREFIX) and _SHA256.fullmatch(name[len(PHOTO_PREFIX):])):
                raise _Bad(f"the bundle holds {name!r}: a member after {PHOTOS_LIST} is a photo, {PHOTO_PREFIX}<sha256>")
        for info in zf.infolist():
            # The writer stores every member: a compressed one is not a bundle it wrote, and is
            # not unpacked (a small deflate bomb could fill the memory or the disk).
            if info.compress_type != zipfile.ZIP_STORED:
                raise _Bad(f"{info.filename} is compressed; a bundle's members are stored uncompressed: refused unread")
            if info.filename.startswith(PHOTO_PREFIX) and info.file_size > MAX_PHOTO_BYTES:
                raise _Bad(f"{info.filename} is over {MAX_PHOTO_BYTES} bytes, a photo's limit: refused unread")
        if zf.getinfo(MANIFEST).file_size > MAX_MANIFEST_BYTES:
            raise _Bad(f"manifest.json is over {MAX_MANIFEST_BYTES} bytes: refused unread")
        try:
            with zf.open(MANIFEST) as member:
                manifest = json.loads(member.read(MAX_MANIFEST_BYTES + 1).decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise _Bad("manifest.json is not JSON") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or manifest.get("chain_format") != chain.FORMAT:
            raise _Bad(f"manifest.json does not say format {FORMAT} with chain format {chain.FORMAT}")
        try:
            team = str(manifest["team"])
            head = (int(manifest["head"]["seq"]), str(manifest["head"]["link"]))
            files = {name: str(manifest["files"][name]["sha256"]) for name in (CHAIN, RECORDS, *names[3:4])}
            day = manifest.get("day")
            scope = manifest.get("scope") or (DAY if day is not None else EVERY_VERSION)
        except (KeyError, TypeError, ValueError):
            raise _Bad("manifest.json lacks the team, the head or the files' hashes") from None
        if PHOTOS_LIST in (manifest.get("files") or {}) and PHOTOS_LIST not in names:
            raise _Bad(f"manifest.json lists {PHOTOS_LIST}, the bundle does not hold it (the photos were removed)")
        if scope not in (EVERY_VERSION, DAY) or (scope == DAY) != (day is not None):
            raise _Bad(f"manifest.json's scope {scope!r} does not go with its day {day!r}")

        # Each member whole first: its bytes against the manifest (and zip's CRC-32 checked on the way).
        for name, expected in files.items():
            digest = hashlib.sha256()
            with zf.open(name) as member:
                for block in iter(lambda: member.read(_CHUNK), b""):
                    digest.update(block)
            if digest.hexdigest() != expected:
                raise _Bad(f"{name}: its SHA-256 is not the one manifest.json gives (the file was changed)")
        records = _lines(zf, RECORDS)
        pending = next(records, None)
        problem: list[str] = []
        found_at: list[int] = []
        carried = [0]
        undated = [0]  # chain lines of format 1: their links do not say their day
        named: dict[str, tuple[int, str]] = {}  # the photo files the carried versions name

        def rows() -> Iterator[chain.Row]:
            nonlocal pending
            for number, line in _lines(zf, CHAIN):
                try:
                    form = int(line.get("chain_format", 1))
                    row = chain.Row(int(line["seq"]), str(line["id"]), int(line["version"]), str(line["sent_by"]),
                                    str(line["received_at"]), str(line["public_digest"]), str(line["personal_digest"]),
                                    line["link"], chain_format=form if form in chain.FORMATS else 1,
                                    day=None if line.get("day") is None else str(line["day"]))
                except (KeyError, TypeError, ValueError):
                    raise _Bad(f"{CHAIN} line {number} lacks a field of a chain line") from None
                if row.chain_format == 1:
                    undated[0] += 1
                if published_head and row.link and row.link.startswith(published_head):
                    found_at.append(row.seq)
                while pending is not None and _seq(pending[1]) < row.seq:
                    problem.append(f"{RECORDS} line {pending[0]}: seq {_seq(pending[1])} is not in the chain "
                                   f"(or the records are out of order)")
                    return
                if pending is not None and _seq(pending[1]) == row.seq:
                    wrong = _record_problem(pending[1], row, team, day)
                    if wrong:
                        problem.append(f"{RECORDS} line {pending[0]} (seq {row.seq}, record {row.record_id} "
                                       f"version {row.version}): {wrong}")
                        return
                    carried[0] += 1
                    named.update(named_photos(pending[1]["record"]))
                    pending = next(records, None)
                elif scope == EVERY_VERSION:
                    problem.append(f"seq {row.seq} (record {row.record_id} version {row.version}) has no line in "
                                   f"{RECORDS}, though the bundle claims every version: a record was left out")
                    return
                elif row.chain_format == 2 and row.day == day:
                    problem.append(f"seq {row.seq} (record {row.record_id} version {row.version}) is of day {day} "
                                   f"(its link says so) but has no line in {RECORDS}: a version of the day is missing")
                    return
                yield row

        walked = chain.walk(team, rows(), head=head)
        if problem:
            raise _Bad(problem[0])
        if pending is not None:
            raise _Bad(f"{RECORDS} line {pending[0]}: seq {_seq(pending[1])} is not in the chain")
        if isinstance(walked, chain.Break):
            raise _Bad(f"the chain is broken at {walked}")
        if manifest.get("count") != walked.count or manifest.get("last_seq") != walked.last_seq:
            raise _Bad(f"manifest.json says {manifest.get('count')} versions to seq {manifest.get('last_seq')}, "
                       f"the chain has {walked.count} to seq {walked.last_seq}")
        if (manifest.get("records") or {}).get("count") != carried[0]:
            raise _Bad(f"manifest.json says {(manifest.get('records') or {}).get('count')} records, "
                       f"{RECORDS} holds {carried[0]}")
        photos = _check_photos(zf, manifest, named, photo_members)
        if list(photo_members) != sorted(photo_members):
            raise _Bad("the photos are not in the writer's order (by hash): the bundle was changed")
        _same_bytes(path, zf, names)
    if published_head and not found_at:
        return Checked(False, f"the published head {published_head} is not a link of this chain "
                              f"(the chain was rewritten, or it is another team's)", manifest)
    day_proof = ""
    if manifest.get("day") is not None:
        day_proof = (f"no version of day {manifest['day']} is missing" if not undated[0] else
                     f"no version of day {manifest['day']} stored since chain format 2 is missing; the "
                     f"{undated[0]} versions stored before (chain format 1) do not say their day, so for them "
                     f"this is not proven")
    return Checked(True, "", manifest, found_at[0] if found_at else None, day_proof, photos)


def _seq(entry: dict) -> int:
    try:
        return int(entry["seq"])
    except (KeyError, TypeError, ValueError):
        raise _Bad(f"a line of {RECORDS} has no seq") from None


def _record_problem(entry: dict, row: chain.Row, team: str, day: str | None) -> str:
    record = entry.get("record")
    if not isinstance(record, dict):
        return "no record"
    if entry.get("team") != team:
        return f"its team is {entry.get('team')!r}, the bundle's is {team!r}"
    if (str(record.get("id")), record.get("version")) != (row.record_id, row.version):
        return f"it holds record {record.get('id')} version {record.get('version')}: rows swapped"
    if (entry.get("sent_by"), entry.get("received_at")) != (row.sent_by, row.received_at):
        return "its sender or arrival is not the one its chain line gives"
    public, personal = chain.split_personal(record)
    if chain.sha256_hex(chain.canonical_json(public)) != row.public_digest:
        return "content edited: the version does not give its chain line's public_digest"
    salt = entry.get("salt")
    if salt is not None:
        if chain.personal_digest(str(salt), personal) != row.personal_digest:
            return "personal fields or salt edited: they do not give the chain line's personal_digest"
    elif personal:
        return "personal fields without the salt that checks them"
    if day is not None and _record_day(record) != day:
        return f"not of the bundle's day {day}"
    if row.chain_format == 2 and _record_day(record) != row.day:
        return f"its day is not {row.day}, the day its link commits to"
    return ""


def _check_photos(zf: zipfile.ZipFile, manifest: dict, named: dict[str, tuple[int, str]],
                  members: tuple[str, ...]) -> dict:
    """Each photo member against the hash and size its record lists; a changed, missing or extra one named."""
    given = manifest.get("photos")
    stated: dict = given if isinstance(given, dict) else {}
    if "photos" not in manifest and not named:  # written before bundles carried photos
        if PHOTOS_LIST in zf.namelist() or members:
            raise _Bad("manifest.json says nothing of photos, yet the bundle carries some: it was changed")
        return {}
    if not manifest.get("include_personal"):
        # The records hold no photo (their personal fields are out): neither may the bundle.
        if PHOTOS_LIST in zf.namelist() or members:
            raise _Bad("a bundle without personal fields carries photos: it was changed")
        return {"withheld": True, "files": stated.get("files"), "carried": 0, "not_held": 0}
    listed: dict[str, bool] = {}
    if PHOTOS_LIST in zf.namelist():
        previous = ""
        for number, line in _lines(zf, PHOTOS_LIST):
            sha = line.get("sha256")
            if not isinstance(sha, str) or not _SHA256.fullmatch(sha) or sha <= previous \
                    or not isinstance(line.get("held"), bool):
                raise _Bad(f"{PHOTOS_LIST} line {number} is not a photo file's line in hash order")
            previous = sha
            if sha not in named:
                raise _Bad(f"{PHOTOS_LIST} line {number}: photo {sha} is listed by no record of the bundle")
            if line.get("bytes") != named[sha][0]:
                raise _Bad(f"{PHOTOS_LIST} line {number}: photo {sha}'s size is not the one its record lists")
            listed[sha] = line["held"]
    for sha in sorted(named):
        if sha not in listed:
            raise _Bad(f"photo {sha}, which a record lists, is not in {PHOTOS_LIST}: the list was changed")
    present = {name[len(PHOTO_PREFIX):] for name in members}
    for sha in sorted(present):
        if sha not in listed:
            raise _Bad(f"photo {sha} is in the bundle but no record lists it: an extra photo")
        if not listed[sha]:
            raise _Bad(f"photo {sha} is in the bundle but {PHOTOS_LIST} says the server did not hold it: an extra photo")
    for sha in sorted(listed):
        if listed[sha] and sha not in present:
            raise _Bad(f"photo {sha} is missing: {PHOTOS_LIST} says the server held it, the bundle does not carry it")
    for sha in sorted(present):
        digest, size = hashlib.sha256(), 0
        with zf.open(PHOTO_PREFIX + sha) as member:
            for block in iter(lambda: member.read(_CHUNK), b""):
                digest.update(block)
                size += len(block)
        if digest.hexdigest() != sha or size != named[sha][0]:
            raise _Bad(f"photo {sha}: its bytes do not hash to the value its record lists (the photo was changed)")
    found = {"withheld": False, "files": len(named), "carried": len(present),
             "not_held": sum(1 for held in listed.values() if not held)}
    if stated != found:
        raise _Bad(f"manifest.json says photos {stated}, the bundle holds {found}")
    return found


def _members(zf: zipfile.ZipFile, names: tuple[str, ...]) -> Iterator[tuple[str, IO[bytes]]]:
    for name in names:
        with zf.open(name) as member:
            yield name, member


def _same_bytes(path: Path, zf: zipfile.ZipFile, names: tuple[str, ...] = MEMBERS) -> None:
    """Rebuild the zip from its members as the writer lays it out: the same bytes, or the framing was changed."""
    with tempfile.TemporaryFile() as rebuilt:
        _write_zip(rebuilt, _members(zf, names))
        rebuilt.seek(0)
        with open(path, "rb") as original:
            while True:
                a, b = original.read(_CHUNK), rebuilt.read(_CHUNK)
                if a != b:
                    raise _Bad("the zip's own bytes (headers or directory) are not as the bundle writer lays them out: "
                               "the file was changed")
                if not a:
                    return
