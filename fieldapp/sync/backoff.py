"""Retry delays after a failure: exponential, capped, with full jitter.

Full jitter (a uniform draw between 0 and the exponential ceiling) spreads a
thousand phones that come back online at once instead of letting them retry
in step. The scheduler (fieldapp/sync/worker.py) owns this; the uploader never retries.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    base: float = 2.0  # seconds: the first ceiling
    cap: float = 300.0  # seconds: the ceiling never grows past this
    rng: random.Random = field(default_factory=random.Random)
    failures: int = 0

    def ceiling(self) -> float:
        return min(self.cap, self.base * 2 ** max(0, self.failures - 1))

    def next_delay(self) -> float:
        """Count one more failure; the wait before the next try."""
        self.failures += 1
        return self.rng.uniform(0, self.ceiling())

    def reset(self) -> None:
        self.failures = 0
