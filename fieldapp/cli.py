"""The device command line: `fieldapp ui | enroll | sync | status | export | demo | photo | ...`.

Every command takes `--data DIR` (or `FIELDAPP_DATA`); see `fieldapp.config`.
"""

from __future__ import annotations

import argparse
import errno
import gc
import json
import logging
import os
import re
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, TextIO, cast

from fieldapp.config import data_dir
from fieldapp.core.records import PhotoKind
from fieldapp.store import DamagedFile, RecordStore, StoreError, protect, rekey


def _day(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day such as 2026-11-25") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data", metavar="DIR", help="the device's data folder (default: $FIELDAPP_DATA or the user's data folder)")

    parser = argparse.ArgumentParser(prog="fieldapp", description="Field records for rescue teams, on the device.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ui = commands.add_parser("ui", parents=[common], help="the app: a window, or a web page on 127.0.0.1")
    ui.add_argument("--web", action="store_true", help="serve the app as a web page on 127.0.0.1")
    ui.add_argument("--port", type=int, default=None, help="port for --web (default: a free one)")

    enroll = commands.add_parser("enroll", parents=[common], help="link this device to a server (the token on standard input)",
                                 description="The token is read from FIELDAPP_TOKEN, or asked at the terminal, or one line "
                                             "of standard input: never give it on the command line, where the process "
                                             "list and the shell's history show it.")
    enroll.add_argument("server_url", metavar="SERVER_URL")
    enroll.add_argument("token", metavar="TOKEN", nargs="?", default=None, help=argparse.SUPPRESS)  # the old form, warned
    enroll.add_argument("--insecure", action="store_true", help="allow plain http:// to a host that is not this machine")

    sync = commands.add_parser("sync", parents=[common], help="send the queue and fetch the team's records")
    sync.add_argument("--once", action="store_true", help="one full pass, then exit: 0 when nothing is left waiting")

    status = commands.add_parser("status", parents=[common], help="counts by sync state, last sync")
    status.add_argument("--json", action="store_true", help="print JSON")

    export = commands.add_parser("export", parents=[common], help="every record's current version")
    export.add_argument("--day", type=_day, help="only the calls received and the people recovered on this day (YYYY-MM-DD)")
    export.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    export.add_argument("--include-personal", action="store_true",
                        help="keep names, phone numbers, notes, receivers and photos (left out by default, in every format)")

    demo = commands.add_parser("demo", parents=[common], help="save realistic sample calls with their recoveries")
    demo.add_argument("--calls", type=_positive, default=30, help="how many calls (default 30)")
    demo.add_argument("--echo", action="store_true", help="print each id the moment its save returns")
    demo.add_argument("--seed", type=int, default=None, help="make the same sample again")

    pin = commands.add_parser("pin", parents=[common], help="lock this device's data with a PIN (read from standard input)",
                              description="PINs are read from standard input, one a line (the current one first), "
                                          "or for the current one from FIELDAPP_PIN.")
    pin.add_argument("action", choices=["set", "change", "duress", "wipe-after"],
                     help="set: seal the data folder with a new PIN; change: a new PIN for the same data; "
                          "duress: a second PIN that wipes everything and opens an empty app; "
                          "wipe-after N: wipe everything after N wrong PINs in a row (0: never, the default)")
    pin.add_argument("count", nargs="?", type=int, default=None, help="for wipe-after: the number of wrong PINs")

    wipe = commands.add_parser("wipe", parents=[common], help="remove every record and key from this device, beyond recovery")
    wipe.add_argument("--yes", action="store_true", help="do not ask (there is no undo)")

    photo = commands.add_parser("photo", parents=[common], help="attach a photograph to a record, or list them")
    photo_commands = photo.add_subparsers(dest="photo_command", required=True, metavar="ACTION")
    photo_add = photo_commands.add_parser("add", parents=[common], help="save a new version of the record listing the photo "
                                          "(the original kept as it is, a preview made on this device)")
    photo_add.add_argument("record_id", metavar="RECORD_ID")
    photo_add.add_argument("file", metavar="FILE", type=Path, help="a JPEG or PNG")
    photo_add.add_argument("--kind", choices=[k.value for k in PhotoKind], default=PhotoKind.OTHER.value,
                           help="what it shows (default other)")
    photo_list = photo_commands.add_parser("list", parents=[common], help="the photos of one record, or of all, and "
                                           "whether each reached the server")
    photo_list.add_argument("record_id", metavar="RECORD_ID", nargs="?", default=None)
    photo_list.add_argument("--json", action="store_true", help="print JSON")

    retention = commands.add_parser("retention", parents=[common],
                                    help="how long records the server holds stay on this device; removes those past it")
    retention.add_argument("--days", type=_positive, help="keep acknowledged records this many days after their last change")
    retention.add_argument("--approved-only", action="store_true", help="remove only records a team lead approved too")
    return parser


EXIT_CODES = """\
exit codes:
  0    done
  1    not finished: `sync --once` left records or photos waiting, or `enroll` was refused (the line says why)
  2    bad arguments
  3    the disk is full: the line says what was saved before it; nothing after that was
  4    the data folder cannot be written: read-only, not allowed, or not a folder
  5    a file in the data folder is damaged or cannot be read
  6    the output could not be written (a full disk, a closed pipe)
  7    the data is locked with a PIN and none, or a wrong one, was given; or too many wrong
       PINs: the line says how long to wait (or that the team's limit wiped the data)
  8    keys.json is missing or damaged: nothing was read or changed; put it back from a copy
  69   this install lacks the phone's packages: the line names the extra to install
  70   an unexpected error: one line naming it; FIELDAPP_DEBUG=1 shows the traceback
  130  interrupted
Any failure is one line on stderr; saves that returned before it are kept.
"""

EXIT_NOT_FINISHED = 1
EXIT_LOCKED = 7
EXIT_KEYS_LOST = 8
EXIT_DISK_FULL = 3
EXIT_NOT_WRITABLE = 4
EXIT_DAMAGED = 5
EXIT_OUTPUT = 6
EXIT_BUG = 70
EXIT_INTERRUPTED = 130


class _Run:
    """What this command has saved so far, for the line that says where a failure left things."""

    def __init__(self) -> None:
        self.after = "nothing was changed"


class _OutputFailed(Exception):
    def __init__(self, cause: OSError):
        super().__init__(cause.strerror or str(cause))
        self.cause = cause


class _Output:
    """`out` as the commands see it: a failed write is told apart from a failed save."""

    def __init__(self, stream: TextIO):
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as exc:
            raise _OutputFailed(exc) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            raise _OutputFailed(exc) from None

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


class _Warnings(logging.Handler):
    """The store's and the sync client's warnings, one line each on stderr, each said once.

    Logged warnings wait until the command ends: when it fails on a full disk or a
    read-only folder, those that are symptoms of the same fault (a cache that could
    not be written) are dropped, so the failure stays one line.
    """

    def __init__(self, err: TextIO):
        super().__init__(logging.WARNING)
        self.err = err
        self.said: set[str] = set()
        self.pending: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.pending.append(record.getMessage().removeprefix("store: "))
        except Exception:  # a malformed log call must not stop a command
            pass

    def warn(self, line: str) -> None:
        if line not in self.said:
            self.said.add(line)
            _say(self.err, f"warning: {line}")

    def flush_pending(self, cause: OSError | None = None) -> None:
        pending, self.pending = self.pending, []
        for line in pending:
            if not (cause is not None and cause.strerror and cause.strerror in line):
                self.warn(line)


_warnings: _Warnings | None = None


def open_store(folder: Path, err: TextIO) -> RecordStore:
    store = RecordStore.open(folder)
    for problem in store.problems:
        if _warnings is not None:
            _warnings.warn(problem.describe())
        else:
            print(f"warning: {problem.describe()}", file=err)
    return store


def _say(err: TextIO, line: str) -> None:
    try:
        print(f"fieldapp: {line}", file=err, flush=True)
    except (OSError, ValueError):
        pass


def _where(exc: OSError) -> str:
    if not exc.filename:
        return ""
    # A save's temporary file (".name.<pid>.<thread>.tmp") is named as the file it was to replace.
    path = Path(os.fsdecode(exc.filename))
    kept = re.fullmatch(r"\.(.+)\.\d+\.\d+\.tmp", path.name)
    return f" ({path.with_name(kept.group(1)) if kept else path})"


def _os_failure(exc: OSError, folder: Path, run: _Run) -> tuple[int, str]:
    """One line for a failed read or write in the data folder; never record content."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return EXIT_DISK_FULL, f"the disk is full ({folder}): {run.after}; free some space and try again"
    if exc.errno == errno.EROFS:
        return EXIT_NOT_WRITABLE, f"the data folder {folder} is read-only{_where(exc)}: {run.after}"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return EXIT_NOT_WRITABLE, f"the data folder {folder} may not be written{_where(exc)}: permission denied; {run.after}"
    if exc.errno in (errno.ENOTDIR, errno.EEXIST, errno.EISDIR):
        return EXIT_NOT_WRITABLE, f"the data folder {folder} is not a folder{_where(exc)}: {run.after}"
    return EXIT_NOT_WRITABLE, f"the data folder {folder} cannot be used{_where(exc)}: {exc.strerror or type(exc).__name__}; {run.after}"


def entry() -> int:
    """The process's entry (`fieldapp`, `python -m fieldapp`): `main` with the collector set up for it."""
    # What the imports built lives as long as the process: frozen out of the
    # collector's sweeps, so the many short-lived objects of a sync or a page
    # of records do not make it walk them all again and again (a tenth of a
    # drain's time otherwise). No collection first: it would cost a command
    # 20 ms to free a few hundred objects.
    gc.freeze()
    return main()


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    parser.epilog = EXIT_CODES
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    args = parser.parse_args(argv)
    folder = data_dir(args.data)
    handler = {
        "ui": _ui,
        "enroll": _enroll,
        "sync": _sync,
        "status": _status,
        "export": _export,
        "demo": _demo,
        "pin": _pin,
        "wipe": _wipe,
        "retention": _retention,
        "photo": _photo,
    }[args.command]
    run = args.run = _Run()
    output = _Output(out)
    global _warnings
    _warnings = _Warnings(err)
    loggers = [logging.getLogger(name) for name in ("fieldapp", "sync")]
    for logger in loggers:
        logger.addHandler(_warnings)
    try:
        if args.command != "wipe":
            protect.check_keys(folder)  # before anything is read or written
        if protect.has_pin(folder) and args.command not in ("pin", "wipe", "ui"):  # the app asks on its own screen
            protect.unlock(folder, _read_pin(os.environ.get("FIELDAPP_PIN"), "PIN: "))
        code = handler(args, folder, cast(TextIO, output), err)  # it writes and flushes, all a command asks
        _warnings.flush_pending()
        output.flush()
        return code
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except _OutputFailed as exc:
        _warnings.flush_pending(exc.cause)
        if exc.cause.errno == errno.EPIPE:
            _quiet_stdout(out)  # the reader went away (`| head`): nothing to say to it
        else:
            _say(err, f"the output could not be written: {exc}; {run.after}")
        return EXIT_OUTPUT
    except OSError as exc:
        _warnings.flush_pending(exc)
        code, line = _os_failure(exc, folder, run)
        _say(err, line)
        return code
    except _LOCKED_OUT as exc:
        _say(err, _pin_words(exc))
        return EXIT_LOCKED
    except protect.KeysLost as exc:
        _say(err, f"{exc}")
        return EXIT_KEYS_LOST
    except protect.Duress:
        return 0  # wiped; nothing to say to whoever holds the phone
    except (StoreError, DamagedFile) as exc:
        _warnings.flush_pending()
        _say(err, f"the store in {folder} cannot be read: {exc}; {run.after}")
        return EXIT_DAMAGED
    except Exception as exc:
        from fieldapp.sync.errors import SyncError

        _warnings.flush_pending()
        if isinstance(exc, SyncError):
            _say(err, f"{exc}; {run.after}")
            return EXIT_NOT_FINISHED
        if os.environ.get("FIELDAPP_DEBUG"):
            raise
        # Only the kind: a message may quote a record. FIELDAPP_DEBUG=1 shows it all.
        _say(err, f"unexpected error ({type(exc).__name__}) in `{args.command}`: {run.after}; "
                  "FIELDAPP_DEBUG=1 shows the details")
        return EXIT_BUG
    finally:
        for logger in loggers:
            logger.removeHandler(_warnings)
        _warnings = None


_LOCKED_OUT = (protect.WrongPin, protect.PinRequired, protect.TooSoon, protect.WipedAfterGuesses, protect.NotAPin,
               protect.KeystoreEntryGone)


def _pin_words(exc: Exception) -> str:
    """A PIN refusal in the user's language (FIELDAPP_LANG, LANG): the command line's own words in English."""
    from fieldapp.i18n import Translator, device_language

    t = Translator(device_language())
    if t.language == "en":
        return str(exc)
    if isinstance(exc, protect.NotAPin):
        return t(exc.key, n=protect.MIN_PIN)
    if isinstance(exc, protect.TooSoon):
        return t("pin.wait", wait=t.duration(exc.wait_s))
    if isinstance(exc, protect.WrongPin):
        return t("lock.wrong")
    if isinstance(exc, protect.WipedAfterGuesses):
        return t("pin.wiped_after")
    return str(exc)


def _read_secret(given: str | None, prompt: str) -> str:
    """A secret from the environment, or asked at the terminal, or one line of standard input ("" when none)."""
    if given and given.strip():
        return given.strip()
    if sys.stdin is not None and sys.stdin.isatty():
        import getpass

        return getpass.getpass(prompt).strip()
    return (sys.stdin.readline() if sys.stdin is not None else "").strip()


def _read_pin(given: str | None, prompt: str) -> str:
    """A PIN from the environment, or asked at the terminal, or one line of standard input."""
    pin = _read_secret(given, prompt)
    if not pin:
        raise protect.PinRequired()
    return pin


def _pin(args, folder: Path, out: TextIO, err: TextIO) -> int:
    try:
        return _pin_action(args, folder, out)
    except protect.NotAPin as exc:  # a new PIN refused: the request, not the lock
        _say(err, _pin_words(exc))
        return EXIT_NOT_FINISHED
    except (*_LOCKED_OUT, protect.KeysLost):
        raise  # main says it: exit 7 or 8
    except StoreError as exc:  # a refusal of the request (one set already), not a damaged store
        _say(err, str(exc))
        return EXIT_NOT_FINISHED


def _pin_action(args, folder: Path, out: TextIO) -> int:
    if args.action == "set":
        protect.set_pin(folder, _read_pin(None, "new PIN: "))
        args.run.after = "the data is sealed with the new PIN"
        print("the data on this device is now sealed with the PIN; every command asks for it (or reads FIELDAPP_PIN)", file=out)
        return 0
    current = _read_pin(os.environ.get("FIELDAPP_PIN"), "PIN: ")
    if args.action == "wipe-after":
        if args.count is None or args.count < 0:
            raise StoreError("wipe-after needs a number of wrong PINs (0: never)")
        protect.set_wipe_after(folder, args.count, current)
        print(f"after {args.count} wrong PINs in a row, this device's data is wiped" if args.count
              else "wrong PINs never wipe this device's data (they cost growing waits)", file=out)
        return 0
    if args.action == "change":
        rekey.change_pin(folder, current, _read_pin(None, "new PIN: "))
        print("PIN changed", file=out)
        return 0
    protect.set_duress(folder, current, _read_pin(None, "duress PIN: "))
    print("duress PIN set: giving it instead of the PIN wipes this device's data and opens an empty app", file=out)
    return 0


def _wipe(args, folder: Path, out: TextIO, err: TextIO) -> int:
    if not args.yes:
        if not (sys.stdin is not None and sys.stdin.isatty()):
            _say(err, "wipe removes every record for good: add --yes")
            return 2
        answer = input(f"remove every record and key in {folder}, for good? type wipe: ")
        if answer.strip() != "wipe":
            print("nothing was removed", file=out)
            return 1
    protect.wipe(folder)
    print(f"wiped: no record and no key is left in {folder}", file=out)
    return 0


def _retention(args, folder: Path, out: TextIO, err: TextIO) -> int:
    store = open_store(folder, err)
    try:
        if args.days:
            store.set_retention(args.days, approved_only=args.approved_only)
        policy = store.retention()
        removed = store.apply_retention()
    finally:
        store.close()
    if policy is None:
        print("no retention period: every record stays on this device", file=out)
    else:
        print(f"records the server holds{' and a lead approved' if policy.approved_only else ''} leave this device "
              f"{policy.days} days after their last change; {removed} removed now", file=out)
    return 0


def _quiet_stdout(out: TextIO) -> None:
    if out is sys.stdout:
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass


def _ui(args, folder: Path, out: TextIO, err: TextIO) -> int:
    from fieldapp.ui.app import run

    run(folder, web=args.web, port=args.port)
    return 0


def _enroll(args, folder: Path, out: TextIO, err: TextIO) -> int:
    from fieldapp.sync import commands

    args.run.after = "the enrollment was not saved"
    token = args.token
    if token is not None:
        _say(err, "warning: a token on the command line is seen in the process list and the shell's history; "
                  "give it on standard input or in FIELDAPP_TOKEN")
    else:
        token = _read_secret(os.environ.get("FIELDAPP_TOKEN"), "token: ")
        if not token:
            _say(err, "no token: give it on standard input or in FIELDAPP_TOKEN")
            return 2
    return commands.enroll(folder, args.server_url, token, insecure=args.insecure, out=out, err=err)


def _sync(args, folder: Path, out: TextIO, err: TextIO) -> int:
    from fieldapp.sync import commands

    def landed(done: int, total: int) -> None:
        if done:
            args.run.after = f"the server's answers for {done} of {total} records are saved; the rest stay waiting"
        else:
            args.run.after = f"the {total} records stay waiting"

    return commands.sync(folder, once=args.once, out=out, landed=landed)


def _status(args, folder: Path, out: TextIO, err: TextIO) -> int:
    store = open_store(folder, err)
    try:
        counts = store.counts()
        report: dict[str, Any] = {
            "data": str(folder),
            "device_id": store.device_id,
            "records": counts,
            "problems": [p.describe() for p in store.problems],
        }
        report["photos"] = store.photos.counts()
    finally:
        store.close()
    try:
        from fieldapp.sync import commands

        report["sync"] = commands.sync_summary(folder)
    except ImportError:
        report["sync"] = None
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2), file=out)
        return 0
    print(f"data folder: {folder}", file=out)
    print(f"device:      {store.device_id}", file=out)
    for state in ("pending", "sent", "rejected", "conflict"):
        print(f"{state + ':':<12} {counts[state]}", file=out)
    print(f"{'total:':<12} {counts['total']}", file=out)
    photos = report["photos"]
    print(f"{'photos:':<12} {photos['photos']} ({photos['photos_waiting']} waiting, "
          f"{photos['previews_waiting']} previews waiting)", file=out)
    for key, value in (report["sync"] or {}).items():
        print(f"{key + ':':<12} {value}", file=out)
    return 0


def _photo(args, folder: Path, out: TextIO, err: TextIO) -> int:
    from fieldapp.core.records import InvalidRecord, photos_of
    from fieldapp.store.attach import attach, taken_at_of
    from fieldapp.store.errors import RecordNotFound
    from fieldapp.store.photos import NotAPhoto

    store = open_store(folder, err)
    try:
        if args.photo_command == "add":
            args.run.after = "the record was not changed"
            try:
                original = args.file.read_bytes()
            except OSError as exc:
                _say(err, f"photo add: cannot read {args.file}: {exc.strerror or type(exc).__name__}; {args.run.after}")
                return 2
            try:
                version = attach(store, args.record_id, original, kind=PhotoKind(args.kind), taken_at=taken_at_of(args.file))
            except RecordNotFound:
                _say(err, f"photo add: no record {args.record_id} on this device; {args.run.after}")
                return 2
            except (NotAPhoto, InvalidRecord) as exc:
                _say(err, f"photo add: {exc}; {args.run.after}")
                return 2
            added = photos_of(version)[-1]
            print(f"{added['sha256']} {args.kind} added to {args.record_id} (version {version['version']})", file=out)
            return 0
        files = store.photos.entries()
        rows = []
        records = [store.get(args.record_id)] if args.record_id else list(store.iter_current())
        if args.record_id and records[0] is None:
            _say(err, f"photo list: no record {args.record_id} on this device")
            return 2
        for stored in records:
            assert stored is not None
            for photo in photos_of(stored.record):
                entry = files.get(photo["sha256"])
                rows.append({"record_id": stored.id, "sha256": photo["sha256"], "kind": photo["kind"], "size": photo["size"],
                             "taken_at": photo["taken_at"],
                             "state": "not on this device" if entry is None else "sent" if entry["sent"] else "waiting"})
    finally:
        store.close()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2), file=out)
    else:
        for row in rows:
            print(f"{row['record_id']} {row['sha256']} {row['kind']:<9} {row['size']:>9} {row['state']}", file=out)
    return 0


def _export(args, folder: Path, out: TextIO, err: TextIO) -> int:
    from fieldapp.core import exports

    store = open_store(folder, err)
    try:
        records = [r.record for r in store.iter_current()]
        team = store.get_meta("team") or None  # learnt at the last pull; unknown before
    finally:
        store.close()
    # A day is when things happened (a call's received_at, a recovery's
    # recovered_at), as in the day's figures, not when they were saved.
    options = {"include_personal": args.include_personal, "day": args.day,
               "provenance": exports.one_team(records, team)}
    if args.format == "csv":
        out.write(exports.to_csv(records, **options))
    else:
        out.write(exports.to_jsonl(records, **options))
    return 0


def _demo(args, folder: Path, out: TextIO, err: TextIO) -> int:
    from fieldapp.demo import populate

    store = open_store(folder, err)

    args.run.after = "no record was saved"
    count = 0

    def echo(record_id: str) -> None:
        nonlocal count
        count += 1
        args.run.after = f"nothing was saved after {record_id}; the {count} records saved up to it are kept"
        if args.echo:
            print(record_id, file=out, flush=True)

    try:
        saved = populate(store, args.calls, seed=args.seed, echo=echo)
    finally:
        store.close()
    print(f"saved {saved} records in {folder}", file=err)
    return 0


if __name__ == "__main__":
    sys.exit(main())
