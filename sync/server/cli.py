"""`fieldapp-server serve | enroll | revoke | export`.

Every command takes `--database URL` (or `FIELDAPP_DATABASE_URL`); the default is the
SQLite file `fieldapp-server.db` in the current folder.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence, TextIO

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

    summary = commands.add_parser("summary", parents=[common], help="the day's figures as JSON (as GET /api/v1/summary)")
    summary.add_argument("--day", required=True, help="YYYY-MM-DD")
    summary.add_argument("--team", help="only this team (default: every team)")

    export = commands.add_parser("export", parents=[common], help="every stored current version")
    export.add_argument("--day", type=_export_day, help="only this day (YYYY-MM-DD)")
    export.add_argument("--format", choices=["csv", "geojson", "jsonl"], default="jsonl")
    export.add_argument("--team", help="only this team (default: every team; each row says its team)")
    export.add_argument("--include-personal", action="store_true",
                        help="keep names, phone numbers, receivers and photos (left out by default, in every format)")
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
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
        if args.command == "summary":
            import json
            from datetime import date

            from fieldapp.core.figures import day_figures

            figures = day_figures(db.current_records(args.team), date.fromisoformat(args.day).isoformat())
            print(json.dumps(figures, ensure_ascii=False, indent=2), file=out)
            return 0
        if args.command == "export":
            from .routes.reports import render_export

            response = render_export(db.current_deliveries(args.team), args.format, args.day, args.include_personal,
                                     team=args.team)
            out.write(response.body.decode("utf-8"))
            return 0
    finally:
        db.close()
    return 2


if __name__ == "__main__":
    sys.exit(main())
