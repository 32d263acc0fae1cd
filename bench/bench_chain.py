"""Tamper evidence: what the hash chain costs a push, and `fieldapp-server verify` over a million versions.

    python -m bench chain

1. Ingest with and without the chain, in the same run, on a SQLite file and on
   PostgreSQL, with realistic new records (calls and recoveries, about half with
   personal fields, which take the chain's slower path; most recoveries tagged).
   `Database.chained = False` is the push without the chain (no salt, no digests, no
   link, no head: set only here, never in a server). The two modes alternate round by
   round on one database (a team each), so both see the same machine, the same load
   from elsewhere and the same table sizes; the figure is the median of the rounds.
   a. `Database.push` alone, 200-record batches: where the chain's share is largest.
   b. The real server over loopback, as bench server loads it: 50 devices pushing 4
      batches of 200 back to back, all at once; two server processes on the database,
      one with the chain and one started with it off, each loaded in turn.
2. `fieldapp-server verify` over 1,000,000 versions of one team in a SQLite file, run
   as the command (its own process; wall time and peak memory). The million rows are
   built quickly, not pushed: bulk inserts of realistic record bodies, each linked by
   the same functions the push uses (chain.digests, chain.link_from_digests).
   FIELDAPP_BENCH_CHAIN_VERSIONS changes the count. FIELDAPP_BENCH_CHAIN_VERIFY_ROUNDS
   rounds of verify (default 2, the best reported); FIELDAPP_BENCH_CHAIN_AGAINST=DIR[,DIR]:
   other checkouts (the code before a change) whose verify runs on the same file, round
   by round in turn with this one.

FIELDAPP_BENCH_CHAIN_PARTS=push,http,verify (the default) picks the parts to run.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.common import ROOT, drop_postgres, postgres_database
from fieldapp.core.records import held_tag
from sync.server import chain
from sync.server.db import Device, open_database

BATCH = 200
BATCHES_PER_ROUND = 10
ROUNDS = 10
VERSIONS = int(os.environ.get("FIELDAPP_BENCH_CHAIN_VERSIONS", "1000000"))
GOAL_RATIO = 1.2
GOAL_VERIFY_S = 30.0
VERIFY_ROUNDS = int(os.environ.get("FIELDAPP_BENCH_CHAIN_VERIFY_ROUNDS", "2"))  # the best round is reported

PLACES = ["Jableh - جبلة", "Latakia - اللاذقية", "Baniyas - بانياس", "Qardaha - القرداحة"]
NOTES = ["Three-storey building, family of four under the rubble.", "Fire on the second floor, smoke in the stairwell.",
         "Two bodies found near the ravine road, access by foot only.", "Neighbours dug with their hands before we came."]


def _stamp(rng: random.Random) -> str:
    return f"2026-11-{rng.randint(20, 26):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00+03:00"


def realistic(rng: random.Random, device: str) -> list[dict]:
    """A call and its recoveries, as a team records them: about half with notes, some with names and phones."""
    at = _stamp(rng)
    call = {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "type": "call", "version": 1, "base_version": 0,
        "device_id": device, "created_at": at, "updated_at": at, "recorded_by": f"falcon-{rng.randint(1, 30)}",
        "data": {"received_at": at, "incident_type": rng.choice(["airstrike", "building_collapse", "fire", "bodies_found"]),
                 "status": "completed",
                 "location": {"place": rng.choice(PLACES), "lat": round(35.3 + rng.random() / 5, 5),
                              "lon": round(35.9 + rng.random() / 5, 5), "accuracy_m": 12.0},
                 "status_log": [{"status": "dispatched", "at": at}, {"status": "on_scene", "at": at},
                                {"status": "completed", "at": at}],
                 "reported_people": rng.randint(1, 12)},
    }
    if rng.random() < 0.5:
        call["data"]["notes"] = rng.choice(NOTES)
    if rng.random() < 0.2:
        call["data"]["caller_phone"] = f"+963 9{rng.randint(0, 99):02d} {rng.randint(0, 999):03d} {rng.randint(0, 999):03d}"
    out = [call]
    for _ in range(rng.choice([1, 1, 2, 3])):
        recovery = {
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "type": "recovery", "version": 1,
            "base_version": 0, "device_id": device, "created_at": at, "updated_at": at,
            "data": {"call_id": call["id"], "outcome": rng.choice(["rescued", "injured", "deceased"]),
                     "count": rng.choice([1, 1, 1, 2, 10]), "recovered_at": at,
                     "sex": rng.choice(["female", "male", "unknown"]), "age_group": rng.choice(["child", "adult", "elderly"]),
                     "handed_to": rng.choice(["Jableh National Hospital", "the morgue", "family"])},
        }
        if rng.random() < 0.3:
            recovery["data"]["name"] = rng.choice(["Ahmad K.", "Maryam S.", "أحمد خليل", "مريم سليمان"])
        if rng.random() < 0.3:
            recovery["data"]["notes"] = rng.choice(NOTES)
        if rng.random() < 0.7:
            recovery["data"]["tag"] = f"BT-{rng.getrandbits(64):016x}"
        out.append(recovery)
    return out


def batches(rng: random.Random, device: str, count: int) -> list[list[dict]]:
    made: list[list[dict]] = []
    for _ in range(count):
        batch: list[dict] = []
        while len(batch) < BATCH:
            batch += realistic(rng, device)
        made.append(batch[:BATCH])
    return made


def ingest(name: str, url: str) -> dict:
    db = open_database(url)
    rng = random.Random(14)
    rates: dict[bool, list[float]] = {True: [], False: []}
    try:
        for chained in (True, False):
            db.enroll(team=f"chain-{chained}", device_id=f"bench-{chained}", role="volunteer",
                      token_hash=f"bench-chain-{chained}-{uuid.uuid4().hex}")
        for _ in range(ROUNDS):
            for chained in ((True, False) if _ % 2 == 0 else (False, True)):
                who = Device(f"bench-{chained}", f"chain-{chained}", "volunteer")
                work = batches(rng, f"inst-{chained}", BATCHES_PER_ROUND)
                db.chained = chained
                started = time.perf_counter()
                for batch in work:
                    outcomes = db.push(who, batch)
                    assert all(o.outcome.value == "accepted" for o in outcomes)
                rates[chained].append(BATCH * BATCHES_PER_ROUND / (time.perf_counter() - started))
        db.chained = True
        [whole] = list(db.verify_chains("chain-True"))
        assert isinstance(whole, chain.Walked), whole
    finally:
        db.close()
    on, off = statistics.median(rates[True]), statistics.median(rates[False])
    return {"name": name, "on": on, "off": off, "ratio": off / on, "versions": whole.count,
            "spread": (min(rates[True]), max(rates[True]), min(rates[False]), max(rates[False]))}


HTTP_DEVICES, HTTP_BATCHES, HTTP_ROUNDS = 50, 4, 4

# A server process with the chain on or off: the same app, Database.chained set first.
SERVE = ("import sys, uvicorn; from sync.server.db import base; base.Database.chained = sys.argv[2] == 'on'; "
         "uvicorn.run('sync.server.asgi:app', host='127.0.0.1', port=int(sys.argv[1]), log_level='warning')")


def http_ingest(name: str, url: str) -> dict:
    import httpx

    from bench.bench_server import _free_port, _load
    from sync.server.auth import new_token, token_hash

    db = open_database(url)
    tokens: dict[str, list[str]] = {}
    for mode in ("on", "off"):
        tokens[mode] = []
        for n in range(HTTP_DEVICES):
            token = new_token()
            db.enroll(team=f"http-{mode}", device_id=f"http-{mode}-{n:02d}", role="volunteer", token_hash=token_hash(token))
            tokens[mode].append(token)
    servers = {}
    try:
        for mode in ("on", "off"):
            port = _free_port()
            proc = subprocess.Popen([sys.executable, "-c", SERVE, str(port), mode], cwd=ROOT,
                                    env={**os.environ, "FIELDAPP_DATABASE_URL": url},
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            servers[mode] = (proc, f"http://127.0.0.1:{port}")
            for _ in range(300):
                try:
                    httpx.get(servers[mode][1] + "/api/v1/health", timeout=0.5)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
        rng = random.Random(7)
        rates: dict[str, list[float]] = {"on": [], "off": []}
        for round_ in range(HTTP_ROUNDS):
            for mode in (("on", "off") if round_ % 2 == 0 else ("off", "on")):
                bodies = {n: [json.dumps({"records": batch}).encode()
                              for batch in batches(rng, f"inst-{mode}-{n}", HTTP_BATCHES)] for n in range(HTTP_DEVICES)}
                _, wall = _load(servers[mode][1], tokens[mode],
                                lambda n, bodies=bodies: [("POST", "/api/v1/push", b) for b in bodies[n]])
                rates[mode].append(HTTP_DEVICES * HTTP_BATCHES * BATCH / wall)
    finally:
        for proc, _ in servers.values():
            os.killpg(proc.pid, 15)
            proc.wait(timeout=30)
    [whole] = list(db.verify_chains("http-on"))
    db.close()
    assert isinstance(whole, chain.Walked), whole
    on, off = statistics.median(rates["on"]), statistics.median(rates["off"])
    return {"name": name, "on": on, "off": off, "ratio": off / on, "versions": whole.count,
            "spread": (min(rates["on"]), max(rates["on"]), min(rates["off"]), max(rates["off"]))}


def build(path: Path, team: str, count: int) -> str:
    """`count` linked versions of one team in a fresh server database, by bulk inserts; returns the head."""
    db = open_database(f"sqlite:///{path}")
    db.close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    rng = random.Random(1)
    previous, seq = chain.GENESIS, 0
    conn.execute("BEGIN")
    received = "2026-11-25T09:00:00.000+00:00"
    while seq < count:
        rows = []
        for record in realistic(rng, "inst-1"):
            if seq == count:
                break
            seq += 1
            if seq % 1000 == 0:
                received = (f"2026-11-{20 + seq * 6 // count:02d}T{seq // 3600 % 24:02d}:{seq // 60 % 60:02d}:{seq % 60:02d}"
                            f".{seq % 1000:03d}+00:00")
            text = chain.canonical_json(record)
            salt = chain.new_salt()
            public, personal = chain.digests(text, salt)
            previous = chain.link_from_digests(previous, team=team, seq=seq, record_id=record["id"], version=1,
                                               sent_by="dev-1", received_at=received, public_digest=public,
                                               personal_digest=personal)
            rows.append((team, record["id"], 1, chain.sha256_hex(text), seq, False, "inst-1", "dev-1", received,
                         text, salt, previous))
        conn.executemany("INSERT INTO revisions (team, id, version, hash, seq, losing, device_id, sent_by, received_at, "
                         "record, salt, link) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        # Each record's current row, as the push writes it: verify holds it against the chain.
        conn.executemany("INSERT INTO records (team, id, version, hash, type, record, in_conflict, seq) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         [(t, rid, v, h, json.loads(text)["type"], text, False, seq)
                          for t, rid, v, h, seq, _, _, _, _, text, _, _ in rows])
        conn.executemany("INSERT OR IGNORE INTO tags (team, tag, record_id) VALUES (?, ?, ?)",
                         [(t, tag, rid) for t, rid, _, _, _, _, _, _, _, text, _, _ in rows
                          if (tag := held_tag(json.loads(text))) is not None])
    conn.execute("INSERT INTO teams (team, seq, head) VALUES (?, ?, ?)", (team, seq, previous))
    # The installation's binding, as its first push made it: verify holds `installations` against it.
    conn.execute("INSERT INTO installations (team, device_id, enrolled_device, bound_at) VALUES (?, 'inst-1', "
                 "'dev-1', '2026-11-25T09:00:00.000+00:00')", (team,))
    conn.execute("COMMIT")
    conn.close()
    return previous


def verify_command(path: Path, team: str, checkout: Path = ROOT) -> dict:
    """`fieldapp-server verify --team T` in its own process: exit code, wall time, peak memory, output.

    `checkout`: the source tree whose verify runs (another checkout: the same file, the code before a change).
    """
    wrapper = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
               "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
               "print(r.returncode, time.perf_counter() - t, "
               "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); print(r.stdout, end='')")
    done = subprocess.run([sys.executable, "-c", wrapper, sys.executable, "-m", "sync.server.cli", "verify",
                           "--team", team, "--database", f"sqlite:///{path}"],
                          cwd=checkout, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(checkout)})
    code, wall, peak = done.stderr.split()[-3:]
    return {"code": int(code), "wall_s": float(wall), "peak_mb": int(peak) / 1024, "out": done.stdout.strip()}


def _rounds(runs: list[dict]) -> str:
    return ", ".join(f"{r['wall_s']:.1f} s" for r in runs)


def _table(rows: list[dict]) -> None:
    print(f"{'database':>11} {'with chain':>12} {'without':>12} {'without / with':>15} {'goal':>6}   rounds: with / without")
    for r in rows:
        verdict = "met" if r["ratio"] <= GOAL_RATIO else "NOT met"
        lo_on, hi_on, lo_off, hi_off = r["spread"]
        print(f"{r['name']:>11} {r['on']:>10.0f}/s {r['off']:>10.0f}/s {r['ratio']:>14.2f}x {verdict:>7}   "
              f"{lo_on:.0f}-{hi_on:.0f} / {lo_off:.0f}-{hi_off:.0f}")


def main() -> None:
    wanted = set(os.environ.get("FIELDAPP_BENCH_CHAIN_PARTS", "push,http,verify").split(","))
    for label, run_one, what in (
        ("push", ingest, f"1a. ingest: Database.push of {BATCH}-record batches, {ROUNDS} rounds of {BATCHES_PER_ROUND} "
                         f"batches per mode, chain on and off alternating (median of the rounds, records/s)"),
        ("http", http_ingest, f"1b. ingest over HTTP: {HTTP_DEVICES} devices at once, each {HTTP_BATCHES} pushes of {BATCH} "
                              f"back to back; {HTTP_ROUNDS} rounds per mode alternating between a server with the chain "
                              f"and one without (median, records/s)"),
    ):
        if label not in wanted:
            continue
        print(what)
        rows = []
        with tempfile.TemporaryDirectory() as tmp:
            rows.append(run_one("SQLite", f"sqlite:///{Path(tmp) / 'ingest.db'}"))
        pg = postgres_database()
        if pg:
            try:
                rows.append(run_one("PostgreSQL", pg))
            finally:
                drop_postgres(pg)
        _table(rows)
        print(f"(goal: the chain's throughput within {GOAL_RATIO}x of the push without it)\n")
    if "verify" not in wanted:
        return

    print(f"2. verify over {VERSIONS:,} versions of one team (SQLite file, built by bulk inserts, linked by chain.py)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "million.db"
        started = time.perf_counter()
        head = build(path, "team-million", VERSIONS)
        built = time.perf_counter() - started
        size = path.stat().st_size / 1e6
        print(f"built in {built:.1f} s ({VERSIONS / built:,.0f} versions/s), {size:,.0f} MB, head {head}")
        # The baseline: the same rows read as the walk reads them, without checking anything.
        db = open_database(f"sqlite:///{path}")
        started = time.perf_counter()
        read = sum(1 for _ in db.revision_rows("team-million"))
        reading = time.perf_counter() - started
        db.close()
        # Rounds interleaved with the other checkouts' verify (FIELDAPP_BENCH_CHAIN_AGAINST), on the same file.
        against = [Path(p) for p in os.environ.get("FIELDAPP_BENCH_CHAIN_AGAINST", "").split(",") if p]
        runs: dict[str, list[dict]] = {str(c): [] for c in [ROOT, *against]}
        for _ in range(VERIFY_ROUNDS):
            for checkout in [ROOT, *against]:
                runs[str(checkout)].append(verify_command(path, "team-million", checkout))
        run = min(runs[str(ROOT)], key=lambda r: r["wall_s"])
        # Migration 3's step (an existing database linked), over the same rows: it draws
        # new salts and links everything again, in batches; verify after it must pass.
        from sync.server.db.migrations import link_existing

        db = open_database(f"sqlite:///{path}")
        started = time.perf_counter()
        with db.transaction(write=True) as cur:
            link_existing(cur, db)
        migrating = time.perf_counter() - started
        db.close()
        again = verify_command(path, "team-million")
    print(f"verify: exit {run['code']}, {run['wall_s']:.1f} s wall ({VERSIONS / run['wall_s']:,.0f} versions/s), "
          f"peak {run['peak_mb']:.0f} MB")
    print(f"  {run['out']}")
    print(f"  rounds: {_rounds(runs[str(ROOT)])}")
    for checkout in against:
        theirs = runs[str(checkout)]
        best = min(theirs, key=lambda r: r["wall_s"])
        print(f"verify of {checkout} on the same file: exit {best['code']}, {best['wall_s']:.1f} s wall, peak "
              f"{best['peak_mb']:.0f} MB (rounds: {_rounds(theirs)}); "
              f"this one / that one = {run['wall_s'] / best['wall_s']:.2f}x time, "
              f"{run['peak_mb'] / best['peak_mb']:.2f}x memory")
    print(f"baseline: reading the same {read:,} rows without checking: {reading:.1f} s "
          f"(verify / read = {run['wall_s'] / reading:.1f}x)")
    print(f"migration 3's linking step over the same rows: {migrating:.1f} s ({read / migrating:,.0f} versions/s); "
          f"verify after it: exit {again['code']}, {again['wall_s']:.1f} s")
    per_million = run["wall_s"] * 1_000_000 / VERSIONS
    verdict = "met" if per_million < GOAL_VERIFY_S and run["code"] == 0 else "NOT met"
    if VERSIONS == 1_000_000:
        print(f"(goal: under {GOAL_VERIFY_S:.0f} s for 1,000,000 versions: {verdict})")
    else:  # measured at another count: the same rate, scaled (verify reads in batches: time grows with the rows)
        print(f"(goal: under {GOAL_VERIFY_S:.0f} s for 1,000,000 versions: measured at {VERSIONS:,}; at this rate a "
              f"million would take {per_million:.0f} s: {verdict}, by that estimate)")


if __name__ == "__main__":
    main()
