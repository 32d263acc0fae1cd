"""Backoff with full jitter, on a seeded random source and a fake clock: no sleeping."""

import random
import statistics

from fieldapp.sync.backoff import Backoff


def test_ceilings_grow_exponentially_and_stop_at_the_cap():
    backoff = Backoff(base=2, cap=60, rng=random.Random(1))
    ceilings = []
    for _ in range(8):
        backoff.next_delay()
        ceilings.append(backoff.ceiling())
    assert ceilings == [2, 4, 8, 16, 32, 60, 60, 60]


def test_every_delay_lies_between_zero_and_its_ceiling():
    backoff = Backoff(base=1, cap=30, rng=random.Random(2))
    for _ in range(200):
        delay = backoff.next_delay()
        assert 0 <= delay <= backoff.ceiling() <= 30


def test_delays_are_spread_so_phones_do_not_retry_in_step():
    # a thousand phones that failed three times each: their next tries spread over the window
    delays = [Backoff(base=2, cap=300, rng=random.Random(seed)) for seed in range(1000)]
    thirds = []
    for b in delays:
        b.next_delay(), b.next_delay()
        thirds.append(b.next_delay())
    assert 0 <= min(thirds) < 0.2 and 7.8 < max(thirds) <= 8
    assert 3.5 < statistics.mean(thirds) < 4.5  # uniform over [0, 8]
    buckets = [sum(1 for d in thirds if k <= d < k + 1) for k in range(8)]
    assert min(buckets) > 80  # no second of the window is empty or crowded
    assert max(buckets) < 170


def test_reset_after_success_starts_small_again():
    backoff = Backoff(base=2, cap=300, rng=random.Random(3))
    for _ in range(6):
        backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() <= 2
