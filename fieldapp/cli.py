"""The device command line: `fieldapp ui | enroll | sync | status | export | demo`.

Every command takes `--data DIR` (or `FIELDAPP_DATA`); see `fieldapp.config`.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Sequence, TextIO

from fieldapp.config import data_dir
from fieldapp.store import RecordStore


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

    enroll = commands.add_parser("enroll", parents=[common], help="link this device to a server")
    enroll.add_argument("server_url", metavar="SERVER_URL")
    enroll.add_argument("token", metavar="TOKEN")
    enroll.add_argument("--insecure", action="store_true", help="allow plain http:// to a host that is not this machine")

    sync = commands.add_parser("sync", parents=[common], help="send the queue and fetch the team's records")
    sync.add_argument("--once", action="store_true", help="one full pass, then exit: 0 when nothing is left waiting")

    status = commands.add_parser("status", parents=[common], help="counts by sync state, last sync")
    status.add_argument("--json", action="store_true", help="print JSON")

    export = commands.add_parser("export", parents=[common], help="every record's current version")
    export.add_argument("--day", type=_day, help="only the calls received and the people recovered on this day (YYYY-MM-DD)")
    export.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    export.add_argument("--include-personal", action="store_true", help="keep names and phone numbers in a CSV export")

    demo = commands.add_parser("demo", parents=[common], help="save realistic sample calls with their recoveries")
    demo.add_argument("--calls", type=_positive, default=30, help="how many calls (default 30)")
    demo.add_argument("--echo", action="store_true", help="print each id the moment its save returns")
    demo.add_argument("--seed", type=int, default=None, help="make the same sample again")
    return parser


def open_store(folder: Path, err: TextIO) -> RecordStore:
    store = RecordStore.open(folder)
    for problem in store.problems:
        print(f"warning: {problem.describe()}", file=err)
    return store


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = build_parser().parse_args(argv)
    folder = data_dir(args.data)
    handler = {
        "ui": _ui,
        "enroll": _enroll,
        "sync": _sync,
        "status": _status,
        "export": _export,
        "demo": _demo,
    }[args.command]
    try:
        return handler(args, folder, out, err)
    except KeyboardInterrupt:
        return 130


def _ui(args, folder: Path, out: TextIO, err: TextIO) -> int:
    from fieldapp.ui.app import run

    run(folder, web=args.web, port=args.port)
    return 0


def _enroll(args, folder: Path, out: TextIO, err: TextIO) -> int:
    from sync import commands

    return commands.enroll(folder, args.server_url, args.token, insecure=args.insecure, out=out)


def _sync(args, folder: Path, out: TextIO, err: TextIO) -> int:
    from sync import commands

    return commands.sync(folder, once=args.once, out=out)


def _status(args, folder: Path, out: TextIO, err: TextIO) -> int:
    store = open_store(folder, err)
    try:
        counts = store.counts()
        report = {
            "data": str(folder),
            "device_id": store.device_id,
            "records": counts,
            "problems": [p.describe() for p in store.problems],
        }
    finally:
        store.close()
    try:
        from sync import commands

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
    for key, value in (report["sync"] or {}).items():
        print(f"{key + ':':<12} {value}", file=out)
    return 0


def _export(args, folder: Path, out: TextIO, err: TextIO) -> int:
    from fieldapp import exports
    from fieldapp.figures import record_day

    store = open_store(folder, err)
    try:
        records = [r.record for r in store.iter_current()]
    finally:
        store.close()
    # A day is when things happened (a call's received_at, a recovery's
    # recovered_at), as in the day's figures, not when they were saved.
    if args.format == "csv":
        out.write(exports.to_csv(records, include_personal=args.include_personal, day=args.day))
    else:
        if args.day:
            records = [r for r in records if record_day(r) == args.day]
        out.write(exports.to_jsonl(records))
    return 0


def _demo(args, folder: Path, out: TextIO, err: TextIO) -> int:
    from fieldapp.demo import populate

    store = open_store(folder, err)

    def echo(record_id: str) -> None:
        print(record_id, file=out, flush=True)

    try:
        saved = populate(store, args.calls, seed=args.seed, echo=echo if args.echo else None)
    finally:
        store.close()
    print(f"saved {saved} records in {folder}", file=err)
    return 0


if __name__ == "__main__":
    sys.exit(main())
