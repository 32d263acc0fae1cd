"""A store sealed with a PIN beside the same store plain: what encryption at rest costs.

    python -m bench pin

1. A save (`RecordStore.create_call`, durable) with 50k records of app-shaped
   history (`bench.history`), on the store sealed with a PIN beside the same
   history plain, interleaved in one run: p50 and p99 of each, and the ratio.
   Goal: the sealed p50 at most 1.5x the plain one and under 3 ms.
2. Unlocking: the scrypt derivation at the chosen parameters (n=2^16, r=8,
   p=1: 64 MiB) and the unwrap of the data key, as `fieldapp` does at start,
   median of several; goal under 1 s on this machine. Beside it: the same
   store opened plain, so the cost of the PIN at start is plain to see.
   Beside it too: the unlock of a store whose data key is also wrapped by a
   keystore's secret (a file stand-in: on a phone, one round trip more), which
   adds an HMAC and the keystore's copy of the wrong-PIN count.
Every unlock counts the try on disk before checking it (`throttle`): that
write is inside the figure.
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench import history
from bench.common import percentile
from fieldapp.store import RecordStore, keystore, protect
from fieldapp.store.vault import KDF_N, KDF_P, KDF_R

HISTORY = int(os.environ.get("FIELDAPP_BENCH_PIN_HISTORY", "50000"))
SAVES = 300
UNLOCKS = 7
PIN = "482916"
TZ = timezone(timedelta(hours=3))


def _call(rng: random.Random) -> dict:
    return {
        "received_at": (datetime.now(TZ) - timedelta(minutes=rng.randrange(600))).isoformat(timespec="seconds"),
        "incident_type": rng.choice(["airstrike", "building_collapse", "fire", "bodies_found"]),
        "location": {"place": f"Place {rng.randrange(1000)}", "lat": 35.1 + rng.random() / 10, "lon": 36.7 + rng.random() / 10},
        "status": "received",
        "reported_people": rng.randrange(12),
    }


def main() -> None:
    print(history.prove_identical())
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        plain = history.copy_store(HISTORY, Path(tmp) / "plain")
        sealed = Path(tmp) / "sealed"
        shutil.copytree(plain, sealed)
        started = time.perf_counter()
        protect.set_pin(sealed, PIN)
        sealing = time.perf_counter() - started
        protect.forget(sealed)
        print(f"sealing {HISTORY:,} records of history in place: {sealing:.1f} s")

        stores = {"plain": RecordStore.open(plain), "sealed": RecordStore.open(sealed, pin=PIN)}
        rng = random.Random(15)
        times: dict[str, list[float]] = {name: [] for name in stores}
        for n in range(SAVES):
            for name in (("plain", "sealed") if n % 2 else ("sealed", "plain")):  # interleaved: the same noise for both
                data = _call(rng)
                t0 = time.perf_counter()
                stores[name].create_call(data)
                times[name].append(time.perf_counter() - t0)
        for store in stores.values():
            store.close()
        protect.forget(sealed)
        p50 = {name: percentile(values, 0.5) * 1e3 for name, values in times.items()}
        p99 = {name: percentile(values, 0.99) * 1e3 for name, values in times.items()}
        print(f"save with {HISTORY:,} records of history, {SAVES} each, interleaved:")
        for name in stores:
            print(f"  {name:<7} p50 {p50[name]:.2f} ms   p99 {p99[name]:.2f} ms")
        print(f"  sealed / plain p50: {p50['sealed'] / p50['plain']:.2f}x (goal at most 1.5x and under 3 ms)")

        unlock, opened_sealed, opened_plain = [], [], []
        for _ in range(UNLOCKS):
            t0 = time.perf_counter()
            protect.unlock(sealed, PIN)
            unlock.append(time.perf_counter() - t0)
            protect.forget(sealed)
            t0 = time.perf_counter()
            RecordStore.open(sealed, pin=PIN).close()
            opened_sealed.append(time.perf_counter() - t0)
            protect.forget(sealed)
            t0 = time.perf_counter()
            RecordStore.open(plain).close()
            opened_plain.append(time.perf_counter() - t0)
        print(f"unlock (scrypt n=2^{KDF_N.bit_length() - 1}, r={KDF_R}, p={KDF_P}: {KDF_N * KDF_R * 128 // 2**20} MiB), "
              f"median of {UNLOCKS}: {statistics.median(unlock) * 1e3:.0f} ms (goal under 1 s)")
        print(f"open with the PIN: {statistics.median(opened_sealed) * 1e3:.0f} ms; "
              f"the same store plain: {statistics.median(opened_plain) * 1e3:.0f} ms")

        held = keystore.FileKeystore(Path(tmp) / "keystore.json")
        keyed = Path(tmp) / "keyed"
        store = RecordStore.open(keyed)
        store.create_call(_call(rng))
        store.close()
        protect.set_pin(keyed, PIN, held)
        protect.forget(keyed)
        with_keystore = []
        for _ in range(UNLOCKS):
            t0 = time.perf_counter()
            protect.unlock(keyed, PIN, held)
            with_keystore.append(time.perf_counter() - t0)
            protect.forget(keyed)
        print(f"unlock with a keystore's secret too (a file stand-in), median of {UNLOCKS}: "
              f"{statistics.median(with_keystore) * 1e3:.0f} ms (goal under 1 s)")
