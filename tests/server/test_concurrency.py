"""Exactly once under load: two server processes on one PostgreSQL, 50 clients at once."""

from __future__ import annotations

import random
import signal
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx

from sync.server.db import open_database
from tests.records_factory import call_record, recovery_record
from tests.server.conftest import Server

CLIENTS = 50


def test_fifty_clients_two_servers_overlapping_batches_store_each_version_once(postgres_database):
    url = postgres_database()
    first = Server(url).start()  # migrates
    second = Server(url).start()
    try:
        tokens = [first.enroll("team-load", f"dev-{n:02d}") for n in range(CLIENTS)]
        pool = []
        for k in range(150):
            # Each version from an installation of its own: whichever enrolled device
            # stores it first binds that installation; the others' pushes are duplicates.
            call = call_record(device_id=f"inst-call-{k}")
            pool += [call, recovery_record(call["id"], device_id=f"inst-rec-{k}")]
        rng = random.Random(5)
        plans = []
        for n in range(CLIENTS):
            mine = rng.sample(pool, 120)
            plans.append((tokens[n], [first, second][n % 2], [mine[i:i + 40] for i in range(0, 120, 40)]))

        def client(plan) -> list[tuple[str, str]]:
            token, server, batches = plan
            seen = []
            with httpx.Client(timeout=60) as http:
                for batch in batches:
                    response = http.post(server.url + "/api/v1/push", json={"records": batch},
                                         headers={"Authorization": f"Bearer {token}"})
                    assert response.status_code == 200, response.text
                    seen += [(r["id"], r["status"]) for r in response.json()["results"]]
            return seen

        with ThreadPoolExecutor(CLIENTS) as executor:
            results = list(executor.map(client, plans))

        statuses = Counter(status for seen in results for _, status in seen)
        assert set(statuses) <= {"accepted", "duplicate"}, statuses
        pushed = {r["id"] for _, _, batches in plans for batch in batches for r in batch}
        accepted = Counter(rid for seen in results for rid, status in seen if status == "accepted")
        assert set(accepted) == pushed and set(accepted.values()) == {1}  # accepted exactly once each

        db = open_database(url)
        try:
            keys = Counter((rid, version) for rid, version, _ in db.revision_keys("team-load"))
        finally:
            db.close()
        assert set(keys) == {(rid, 1) for rid in pushed}
        assert set(keys.values()) == {1}
        # the team's pull sees every version once, in order
        records, _ = first.pull_all(tokens[0], limit=97)
        assert sorted(r["id"] for r in records) == sorted(pushed)
        print(f"{sum(statuses.values())} verdicts: {dict(statuses)}; {len(keys)} versions stored once each")
        # the team's hash chain, built by both processes in commit order, is whole
        verified = first.cli("verify", "--team", "team-load")
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert f"whole: team team-load: {len(keys)} versions, head seq {len(keys)}" in verified.stdout
    finally:
        first.kill(signal.SIGTERM)
        second.kill(signal.SIGTERM)
