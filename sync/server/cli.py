"""`fieldapp-server serve | enroll | revoke | summary | export | verify | verify-bundle`.

Every command takes `--database URL` (or `FIELDAPP_DATABASE_URL`); the default is the
SQLite file `fieldapp-server.db` in the current folder.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from .verdicts import Role

DEFAULT_DATABASE = "sqlite:///fieldapp-server.db"


def _database(args) -> str:
    return args.database or os.environ.get("FIELDAPP_DATABASE_URL") or DEFAULT_DATABASE


def _export_day(text: str) -> str:
    from datetime import date

    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day such as 2026-11-25") from None


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database", metavar="URL",
                        help=f"sqlite:///file.db or postgresql://... (default: $FIELDAPP_DATABASE_URL or {DEFAULT_DATABASE})")
    parser = argparse.ArgumentParser(prog="fieldapp-server", description="The central sync server of fieldapp.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", parents=[common], help="run the server")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")

    enroll = commands.add_parser("enroll", parents=[common], help="enroll a device; prints its token, last, once")
    enroll.add_argument("--team", required=True)
    enroll.add_argument("--device", required=True)
    enroll.add_argument("--role", choices=[r.value for r in Role], default=Role.VOLUNTEER.value)
    enroll.add_argument("--installation", action="append", default=[], metavar="ID",
                        help="a phone enrolled again under a new name: its installation id (shown by `fieldapp status`), "
                             "whose records now come through this device; repeatable")

    revoke = commands.add_parser("revoke", parents=[common], help="stop a device's token from working")
    revoke.add_argument("--device", required=True)

    team = commands.add_parser("team", parents=[common], help="a team's settings: show them, or change one")
    team.add_argument("team", metavar="TEAM")
    seen = team.add_mutually_exclusive_group()
    seen.add_argument("--volunteers-see-personal", dest="volunteers_see_personal", action="store_const", const=True,
                      help="volunteers' devices get names and phone numbers of every record of the team")
    seen.add_argument("--volunteers-own-personal-only", dest="volunteers_see_personal", action="store_const",
                      const=False, help="only of the records their own device made (the default)")

    summary = commands.add_parser("summary", parents=[common], help="the day's figures as JSON (as GET /api/v1/summary)")
    summary.add_argument("--day", required=True, help="YYYY-MM-DD")
    summary.add_argument("--team", help="only this team (default: every team)")

    export = commands.add_parser("export", parents=[common], help="every stored current version, or an investigator's bundle")
    export.add_argument("--day", type=_export_day, help="only this day (YYYY-MM-DD)")
    export.add_argument("--format", choices=["csv", "geojson", "jsonl", "bundle"], default="jsonl",
                        help="bundle: the team's chain, its versions and a manifest in a zip (needs --team and --output; "
                             "docs/evidence.md)")
    export.add_argument("--team", help="only this team (default: every team; each row says its team)")
    export.add_argument("--include-personal", action="store_true",
                        help="keep names, phone numbers, receivers and photos (left out by default, in every format)")
    export.add_argument("--output", metavar="FILE", help="write to FILE (the bundle's zip; other formats: stdout if absent)")

    verify = commands.add_parser("verify", parents=[common],
                                 help="check every team's hash chain (or one team's); exit 0 when each is whole")
    verify.add_argument("--team", help="only this team")

    check = commands.add_parser("verify-bundle", help="check an investigator's bundle, with no database; exit 0 when whole")
    check.add_argument("file", metavar="FILE")
    check.add_argument("--head", metavar="LINK",
                       help="a head the team published (its link, or the first 16 or more hex digits of it): "
                            "it must be a link of the bundle's chain")
    return parser


def _verify_bundle(args, out: TextIO) -> int:
    import re

    from .bundle import verify_bundle

    head = args.head.strip().lower() if args.head else None
    if head is not None and not re.fullmatch(r"[0-9a-f]{16,64}", head):
        print("--head: give the published link in hex, at least its first 16 digits", file=sys.stderr)
        return 2
    checked = verify_bundle(args.file, published_head=head)
    if not checked.ok:
        print(f"NOT VERIFIED: {args.file}: {checked.problem}", file=out)
        return 1
    m = checked.manifest
    carried = m["records"]
    what = f"day {m['day']}" if m.get("day") else "every version"
    print(f"verified: {args.file}: team {m['team']}, chain of {m['count']} versions whole from seq 1 to "
          f"seq {m['head']['seq']}, head {m['head']['link']}", file=out)
    print(f"records: {carried['count']} ({what}; personal fields {'in' if m.get('include_personal') else 'left out'}), "
          f"each matching its link; exported {m['exported_at']}", file=out)
    if head is not None:
        print(f"the published head {head} is the link of seq {checked.head_found_at}: "
              f"nothing up to it was changed since it was written down", file=out)
    else:
        print("compare the head with the one the team published (or give it with --head)", file=out)
    return 0


def _verify(db, team: str | None, out: TextIO) -> int:
    from .chain import Break

    broken = 0
    for result in db.verify_chains(team):
        if isinstance(result, Break):
            broken += 1
            print(f"BROKEN: {result}", file=out)
        else:
            print(f"whole: team {result.team}: {result.count} versions, head seq {result.last_seq} link {result.head}",
                  file=out)
    if broken:
        print(f"{broken} chain(s) broken", file=out)
        return 1
    return 0


def _export_bundle(db, args, out: TextIO) -> int:
    from pathlib import Path

    from .bundle import write_bundle

    if not args.team or not args.output:
        print("export --format bundle needs --team T and --output FILE", file=sys.stderr)
        return 2
    head = db.chain_head(args.team)
    if head["seq"] == 0:
        print(f"team {args.team} has no stored version", file=sys.stderr)
        return 1
    try:
        written = write_bundle(db.revision_rows(args.team, upto=head["seq"]), team=args.team,
                               head=(head["seq"], head["link"]), output=Path(args.output), day=args.day,
                               include_personal=args.include_personal)
    except OSError as exc:
        print(f"cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    m = written.manifest
    print(f"wrote {written.path}: team {m['team']}, chain of {m['count']} versions (head seq {m['head']['seq']} "
          f"link {m['head']['link']}), {m['records']['count']} records"
          f"{' of ' + m['day'] if m['day'] else ''}, personal fields {'in' if m['include_personal'] else 'left out'}",
          file=out)
    return 0


def _team(db, args, out: TextIO) -> int:
    from . import personal

    if not personal.has_devices(db, args.team):
        print(f"no device is enrolled in team {args.team}", file=sys.stderr)
        return 1
    if args.volunteers_see_personal is not None:
        personal.set_volunteers_see_personal(db, args.team, args.volunteers_see_personal)
    whose = ("every record of the team" if personal.volunteers_see_personal(db, args.team)
             else "only the records their own device made")
    print(f"team {args.team}: volunteers' devices get names and phone numbers of {whose}", file=out)
    return 0


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    if args.command == "verify-bundle":  # no database
        return _verify_bundle(args, out)
    url = _database(args)
    if args.command == "serve":
        import uvicorn

        os.environ["FIELDAPP_DATABASE_URL"] = url
        uvicorn.run("sync.server.asgi:app", host=args.host, port=args.port, workers=args.workers,
                    log_level="info", server_header=False)
        return 0

    from .db import open_database

    db = open_database(url)
    try:
        if args.command == "enroll":
            from .auth import new_token, token_hash

            token = new_token()
            db.enroll(team=args.team, device_id=args.device, role=args.role, token_hash=token_hash(token))
            if args.installation:
                db.bind_installations(team=args.team, device_id=args.device, installations=args.installation)
                print(f"installation(s) {', '.join(args.installation)} now send through {args.device}", file=out)
            print(f"enrolled {args.device} in team {args.team} as {args.role}; its token (shown once):", file=out)
            print(token, file=out)
            return 0
        if args.command == "revoke":
            if db.revoke(args.device):
                print(f"revoked {args.device}", file=out)
                return 0
            print(f"no enrolled device {args.device} with a working token", file=sys.stderr)
            return 1
        if args.command == "team":
            return _team(db, args, out)
        if args.command == "summary":
            import json
            from datetime import date

            from fieldapp.core.figures import day_figures

            figures = day_figures(db.current_records(args.team), date.fromisoformat(args.day).isoformat())
            # The chain head, for the team to write down (as GET /api/v1/summary shows it).
            if args.team:
                figures["chain_head"] = db.chain_head(args.team)
            else:
                figures["chain_heads"] = {team: {"seq": seq, "link": link} for team, (seq, link) in db.chain_heads().items()}
            print(json.dumps(figures, ensure_ascii=False, indent=2), file=out)
            return 0
        if args.command == "verify":
            return _verify(db, args.team, out)
        if args.command == "export" and args.format == "bundle":
            return _export_bundle(db, args, out)
        if args.command == "export":
            from .routes.reports import render_export

            response = render_export(db.current_deliveries(args.team), args.format, args.day, args.include_personal,
                                     team=args.team)
            if args.output:
                try:
                    with open(args.output, "wb") as target:
                        target.write(response.body)
                except OSError as exc:
                    print(f"cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
                    return 1
                return 0
            out.write(bytes(response.body).decode("utf-8"))
            return 0
    finally:
        db.close()
    return 2


if __name__ == "__main__":
    sys.exit(main())
