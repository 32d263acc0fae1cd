"""`fieldapp-server serve | enroll | revoke | summary | export | verify | verify-bundle`.

Every command takes `--database URL` (or `FIELDAPP_DATABASE_URL`); the default is the
SQLite file `fieldapp-server.db` in the current folder. Only `serve` and `enroll` create
a database; the others refuse one that is not there. A bad argument, an unknown team,
an unreachable database: one line on stderr starting `fieldapp-server`, a non-zero
exit (2: the arguments; 1: what they name is not there or cannot be done), never a
traceback, and no file made.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from fieldapp.core.protocol import Role

DEFAULT_DATABASE = "sqlite:///fieldapp-server.db"
# The commands that may create the database they are pointed at.
CREATING = ("serve", "enroll")


class _Refused(Exception):
    """A command refused before or while it ran: its one line, and the exit code."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


class _Parser(argparse.ArgumentParser):
    """argparse, but a refusal in one line (its usage is one `--help` away)."""

    def error(self, message: str):  # type: ignore[override]  # argparse's own signature, NoReturn
        raise _Refused(f"{self.prog}: {message} (see --help)", 2)


def _name(what: str):
    """An argparse type: a name that is not empty (nor only spaces)."""

    def check(text: str) -> str:
        if not text.strip():
            raise argparse.ArgumentTypeError(f"the {what} name is empty")
        # Control characters (NUL above all: PostgreSQL cannot store it) belong in no name.
        if any(ord(c) < 32 or ord(c) == 127 for c in text):
            raise argparse.ArgumentTypeError(f"the {what} name holds a control character")
        return text
    check.__name__ = what
    return check


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (1 to 65535)")
    return int(text)


def _workers(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"{text!r}: workers must be 1 to 64")
    return int(text)


def _database(args) -> str:
    return args.database or os.environ.get("FIELDAPP_DATABASE_URL") or DEFAULT_DATABASE


def _export_day(text: str) -> str:
    from datetime import date

    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day such as 2026-11-25") from None


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--database", metavar="URL",
                        help=f"sqlite:///file.db or postgresql://... (default: $FIELDAPP_DATABASE_URL or {DEFAULT_DATABASE})")
    parser = _Parser(prog="fieldapp-server", description="The central sync server of fieldapp.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    serve = commands.add_parser("serve", parents=[common], help="run the server")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    serve.add_argument("--workers", type=_workers, default=1, help="worker processes (default 1)")
    serve.add_argument("--photos", metavar="DIR", help="the photos' folder, which several servers may share "
                       "(default: $FIELDAPP_PHOTOS_DIR, or beside the SQLite file: server.db -> server-photos/)")
    serve.add_argument("--ssl-certfile", metavar="PEM", help="serve HTTPS with this certificate (chain), PEM "
                       "(uvicorn's option; README, Deploying)")
    serve.add_argument("--ssl-keyfile", metavar="PEM", help="the certificate's private key, PEM")

    enroll = commands.add_parser("enroll", parents=[common], help="enroll a device; prints its token, last, once")
    enroll.add_argument("--team", required=True, type=_name("team"))
    enroll.add_argument("--device", required=True, type=_name("device"))
    enroll.add_argument("--role", choices=[r.value for r in Role], default=Role.VOLUNTEER.value)
    enroll.add_argument("--installation", action="append", default=[], metavar="ID", type=_name("installation"),
                        help="a phone enrolled again under a new name: its installation id (shown by `fieldapp status`), "
                             "whose records now come through this device; repeatable")

    revoke = commands.add_parser("revoke", parents=[common], help="stop a device's token from working")
    revoke.add_argument("--device", required=True, type=_name("device"))

    team = commands.add_parser("team", parents=[common], help="a team's settings: show them, or change one")
    team.add_argument("team", metavar="TEAM", type=_name("team"))
    seen = team.add_mutually_exclusive_group()
    seen.add_argument("--volunteers-see-personal", dest="volunteers_see_personal", action="store_const", const=True,
                      help="volunteers' devices get names and phone numbers of every record of the team")
    seen.add_argument("--volunteers-own-personal-only", dest="volunteers_see_personal", action="store_const",
                      const=False, help="only of the records their own device made (the default)")

    summary = commands.add_parser("summary", parents=[common], help="the day's figures as JSON (as GET /api/v1/summary)")
    summary.add_argument("--day", required=True, type=_export_day, help="YYYY-MM-DD")
    summary.add_argument("--team", type=_name("team"), help="only this team (default: every team)")

    export = commands.add_parser("export", parents=[common], help="every stored current version, or an investigator's bundle")
    export.add_argument("--day", type=_export_day, help="only this day (YYYY-MM-DD)")
    export.add_argument("--format", choices=["csv", "geojson", "jsonl", "bundle"], default="jsonl",
                        help="bundle: the team's chain, its versions and a manifest in a zip (needs --team and --output; "
                             "docs/evidence.md)")
    export.add_argument("--team", type=_name("team"), help="only this team (default: every team; each row says its team)")
    export.add_argument("--include-personal", action="store_true",
                        help="keep names, phone numbers, receivers and photos (left out by default, in every format)")
    export.add_argument("--output", metavar="FILE", help="write to FILE (the bundle's zip; other formats: stdout if absent)")
    export.add_argument("--photos", metavar="DIR", help="the photos' folder a bundle with --include-personal takes the "
                        "photos from (default: $FIELDAPP_PHOTOS_DIR, or beside the SQLite file, as serve)")

    verify = commands.add_parser("verify", parents=[common],
                                 help="check every team's hash chain (or one team's); exit 0 when each is whole")
    verify.add_argument("--team", type=_name("team"), help="only this team")
    verify.add_argument("--photos", metavar="DIR", help="the photos' folder whose bytes are checked against their hashes "
                        "(default: as serve's: $FIELDAPP_PHOTOS_DIR, or beside the SQLite file)")

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
        raise _Refused("verify-bundle: --head: give the published link in hex, at least its first 16 digits", 2)
    checked = verify_bundle(args.file, published_head=head)
    if not checked.ok:
        print(f"NOT VERIFIED: {args.file}: {checked.problem}", file=out)
        return 1
    m = checked.manifest
    carried = m["records"]
    personal = bool(m.get("include_personal"))
    print(f"verified: {args.file}: team {m['team']}, chain of {m['count']} versions whole from seq 1 to "
          f"seq {m['head']['seq']}, head {m['head']['link']}", file=out)
    if m.get("day"):
        scope = f"day {m['day']}: {checked.day_proof}"
    else:
        scope = f"every version: each of the {m['count']} has its record"
    print(f"records: {carried['count']} ({scope}; personal fields {'in' if personal else 'left out'}), "
          f"each matching its link; exported {m['exported_at']}", file=out)
    photos = checked.photos
    if photos.get("withheld"):
        print(f"photos withheld with the personal fields: {photos['files']} photo files (originals and previews) "
              f"named by the records carried, neither their bytes nor their hashes in this bundle", file=out)
    elif photos:
        print(f"photos: {photos['carried']} files carried, each hashing to the value its record lists", file=out)
    if head is not None:
        print(f"the published head {head} is the link of seq {checked.head_found_at}: "
              f"nothing up to it was changed since it was written down", file=out)
    else:
        print("compare the head with the one the team published (or give it with --head)", file=out)
    unproven = [f"versions stored after seq {m['head']['seq']} (after the export) are not in this bundle"]
    if checked.head_found_at is not None and checked.head_found_at < m["head"]["seq"]:
        # The bundle's own head is the server's word; only the published one was written down elsewhere.
        unproven.insert(0, f"seqs {checked.head_found_at + 1} to {m['head']['seq']} were stored after the published "
                           f"head: it does not vouch for them (a later published head can)")
    if not personal:
        unproven.append("personal fields left out: their digests are taken as given, their values not seen")
        if photos.get("files"):
            unproven.append("the count of photos withheld is the server's word")
    elif photos.get("not_held"):
        n = photos["not_held"]
        unproven.append(f"{n} photo file{'s' if n != 1 else ''} the server did not hold at export (not yet uploaded) "
                        f"{'are' if n != 1 else 'is'} not in this bundle")
    print("not proven: " + "; ".join(unproven), file=out)
    return 0


def _verify(db, team: str | None, out: TextIO, photos_folder: str | None = None) -> int:
    from .chain import Break
    from .derived import Walks

    broken, walks = 0, Walks()
    for result in db.verify_chains(team, walks):
        if isinstance(result, Break):
            broken += 1
            print(f"BROKEN: {result}", file=out)
        else:
            print(f"whole: team {result.team}: {result.count} versions, head seq {result.last_seq} link {result.head}",
                  file=out)
    # The operator's acts: devices, installations, teams' settings, schema_migrations (sync/server/acts.py).
    verdict = db.verify_acts(walks, team)
    since = (f"from migration 8 ({verdict.seeded_at}): what was stored before it was taken as found"
             if verdict.seeded_at else "from the database's start")
    if verdict.problem is not None:
        broken += 1
        print(f"BROKEN: {verdict.problem}", file=out)
    elif verdict.disagreements:
        broken += 1
        for found in verdict.disagreements:
            print(f"BROKEN: {found}", file=out)
    else:
        scope = f"team {team}'s devices, installations and settings" if team else \
            "devices, installations, teams' settings"
        print(f"acts: {verdict.count} operator acts {since}, head seq {verdict.last_seq} link {verdict.head}; "
              f"{scope} and schema_migrations agree with them", file=out)
    if photos_folder is not None:
        from pathlib import Path

        from .photos import changed_bytes

        held = db.stored_photos(team)
        changed = changed_bytes(Path(photos_folder), held)
        for found in changed:
            print(f"BROKEN: {found}", file=out)
        if changed:
            broken += 1
        else:
            print(f"photos: the bytes of {len(held)} stored photo(s) in {photos_folder} match their hashes", file=out)
    if broken:
        print(f"{broken} chain(s) broken", file=out)
        return 1
    return 0


def _export_bundle(db, args, out: TextIO, url: str) -> int:
    from pathlib import Path

    from .bundle import PhotoDamaged, write_bundle
    from .photos import PhotoFolder, default_folder

    folder = PhotoFolder(db, Path(args.photos or os.environ.get("FIELDAPP_PHOTOS_DIR") or default_folder(url)))

    def photo_path(sha: str) -> Path | None:
        # The team's photo: its row (a finished, checked upload) and its file.
        return folder.path_of(sha) if folder.held(args.team, sha) is not None else None

    if not args.team or not args.output:
        raise _Refused("export --format bundle needs --team T and --output FILE", 2)
    head = db.chain_head(args.team)
    if head["seq"] == 0:
        raise _Refused(f"team {args.team} has no stored version")
    try:
        written = write_bundle(db.revision_rows(args.team, upto=head["seq"]), team=args.team,
                               head=(head["seq"], head["link"]), output=Path(args.output), day=args.day,
                               include_personal=args.include_personal, photo_path=photo_path)
    except PhotoDamaged as exc:
        raise _Refused(str(exc)) from None
    except OSError as exc:
        raise _Refused(f"cannot write {args.output}: {exc.strerror or exc}") from None
    m = written.manifest
    print(f"wrote {written.path}: team {m['team']}, chain of {m['count']} versions (head seq {m['head']['seq']} "
          f"link {m['head']['link']}), {m['records']['count']} records"
          f"{' of ' + m['day'] if m['day'] else ''}, personal fields {'in' if m['include_personal'] else 'left out'}",
          file=out)
    photos = m["photos"]
    if photos["withheld"]:
        print(f"photos: {photos['files']} photo files withheld with the personal fields (their hashes too)", file=out)
    else:
        print(f"photos: {photos['carried']} photo files carried, {photos['not_held']} not held by the server "
              f"(not yet uploaded: listed in photos.jsonl, not carried)", file=out)
    return 0


def _team(db, args, out: TextIO) -> int:
    from . import personal

    if not personal.has_devices(db, args.team):
        raise _Refused(f"no device is enrolled in team {args.team!r}")
    if args.volunteers_see_personal is not None:
        personal.set_volunteers_see_personal(db, args.team, args.volunteers_see_personal)
    whose = ("every record of the team" if personal.volunteers_see_personal(db, args.team)
             else "only the records their own device made")
    print(f"team {args.team}: volunteers' devices get names and phone numbers of {whose}", file=out)
    return 0


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    from .db import StorageError

    try:
        return _run(argv, out or sys.stdout)
    except _Refused as refused:
        line = str(refused)
        print(line if line.startswith("fieldapp-server") else f"fieldapp-server: {line}", file=sys.stderr)
        return refused.code
    except StorageError as exc:
        print(f"fieldapp-server: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: still one line, and no record content in it
        print(f"fieldapp-server: internal error ({type(exc).__name__}); nothing was changed that was not reported",
              file=sys.stderr)
        return 70


def _known_team(db, team: str | None) -> None:
    if team is not None and not db.knows_team(team):
        raise _Refused(f"no team {team!r} in the database (no device enrolled in it, no version stored)")


def _serve(args, url: str) -> int:
    import ipaddress

    from .db import open_database

    tls = _tls(args)
    # Opened (made, migrated, reached) here first: a bad URL is one line, not a worker's traceback.
    open_database(url).close()
    try:
        loopback = args.host == "localhost" or ipaddress.ip_address(args.host).is_loopback
    except ValueError:
        loopback = False
    if not loopback and not tls:
        print(f"fieldapp-server: warning: serving plain HTTP on {args.host}: tokens and records cross the network "
              f"unencrypted; give --ssl-certfile and --ssl-keyfile, or put a TLS proxy in front (README, Deploying)",
              file=sys.stderr)
    import uvicorn

    os.environ["FIELDAPP_DATABASE_URL"] = url
    if args.photos:
        os.environ["FIELDAPP_PHOTOS_DIR"] = args.photos
    uvicorn.run("sync.server.asgi:app", host=args.host, port=args.port, workers=args.workers,
                log_level="info", server_header=False, ssl_certfile=tls.get("ssl_certfile"),
                ssl_keyfile=tls.get("ssl_keyfile"))
    return 0


def _tls(args) -> dict[str, str]:
    """uvicorn's SSL options from --ssl-certfile and --ssl-keyfile, loaded once here to name what is wrong."""
    import ssl

    if not args.ssl_certfile and not args.ssl_keyfile:
        return {}
    if not (args.ssl_certfile and args.ssl_keyfile):
        raise _Refused("serve: --ssl-certfile and --ssl-keyfile go together: give both or neither", 2)
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(args.ssl_certfile, args.ssl_keyfile)
    except OSError as exc:  # ssl.SSLError is an OSError too
        reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or str(exc)
        raise _Refused(f"serve: cannot load the certificate {args.ssl_certfile} with the key {args.ssl_keyfile}: "
                       f"{reason}", 2) from None
    return {"ssl_certfile": args.ssl_certfile, "ssl_keyfile": args.ssl_keyfile}


def _run(argv: Sequence[str] | None, out: TextIO) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "verify-bundle":  # no database
        return _verify_bundle(args, out)
    url = _database(args)
    if args.command == "serve":
        return _serve(args, url)

    from .db import open_database

    db = open_database(url, create=args.command in CREATING)
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
            raise _Refused(f"no enrolled device {args.device!r} with a working token")
        if args.command == "team":
            return _team(db, args, out)
        _known_team(db, args.team)
        if args.command == "summary":
            import json

            from fieldapp.core.figures import day_figures

            figures = day_figures(db.current_records(args.team), args.day)
            # The chain head, for the team to write down (as GET /api/v1/summary shows it).
            if args.team:
                figures["chain_head"] = db.chain_head(args.team)
            else:
                figures["chain_heads"] = {team: {"seq": seq, "link": link} for team, (seq, link) in db.chain_heads().items()}
            print(json.dumps(figures, ensure_ascii=False, indent=2), file=out)
            return 0
        if args.command == "verify":
            from .photos import default_folder

            return _verify(db, args.team, out, args.photos or os.environ.get("FIELDAPP_PHOTOS_DIR")
                           or str(default_folder(url)))
        if args.command == "export" and args.format == "bundle":
            return _export_bundle(db, args, out, url)
        if args.command == "export":
            from .routes.reports import render_export

            response = render_export(db.current_deliveries(args.team), args.format, args.day, args.include_personal,
                                     team=args.team)
            if args.output:
                try:
                    with open(args.output, "wb") as target:
                        target.write(response.body)
                except OSError as exc:
                    raise _Refused(f"cannot write {args.output}: {exc.strerror or exc}") from None
                return 0
            out.write(bytes(response.body).decode("utf-8"))
            return 0
    finally:
        db.close()
    return 2


if __name__ == "__main__":
    sys.exit(main())
