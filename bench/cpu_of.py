"""Where a command's CPU goes: `python3 bench/cpu_of.py make test` (Linux; the standard library only).

Not one of `make bench`'s benchmarks (no `bench_` prefix): a measuring tool for the test suite. It runs
the command and, while it runs, reads

- the machine's CPU counters (/proc/stat): every CPU-second spent, whoever spent it. A `time` around the
  command counts only the processes the command itself waited for; Chromium (its driver leaves it to
  end on its own) and the PostgreSQL server are not among them, and were a third of the suite's CPU;
- each process's CPU (/proc/PID/stat) every half second, summed by the kind of process. A process that
  lives less than half a second is not seen, so the kinds add up to less than the machine's total.

It prints both when the command ends, and exits with the command's status.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter

HZ = os.sysconf("SC_CLK_TCK")
COUNTERS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")


def kind(command: str) -> str:
    """A process's kind, from its command line."""
    if "chromium" in command or "chrome" in command:
        return "chromium " + (command.split("--type=")[1].split()[0] if "--type=" in command else "browser")
    for words, name in (("playwright/driver/node", "playwright's driver"), ("fieldapp ui --web", "the app (ui --web)"),
                        ("postgres", "postgresql server"), ("-c import sys;exec(eval(", "pytest worker"),
                        ("-m pytest", "pytest"), ("tests.store.", "a test's saver (kill -9 loops)"),
                        ("-m fieldapp", "fieldapp command"), ("sync.server", "server command"),
                        ("uvicorn", "server command"), ("mypy", "mypy"), ("pip", "pip")):
        if words in command:
            return name
    return os.path.basename(command.split()[0]) if command.strip() else "(kernel threads, ended processes)"


def machine() -> list[int]:
    with open("/proc/stat") as stat:
        return [int(n) for n in stat.readline().split()[1:9]]


class Sampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.seen: dict[tuple[str, str], int] = {}  # (pid, start time) -> ticks seen
        self.by_kind: Counter[str] = Counter()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.5):
            self.sample()
        self.sample()

    def sample(self, *, count: bool = True) -> None:
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    command = f.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:  # ended between the listing and the read
                continue
            ticks, process = int(fields[11]) + int(fields[12]), (pid, fields[19])
            if pid == str(os.getpid()):
                command = "this sampler"
            if count:
                self.by_kind[kind(command)] += ticks - self.seen.get(process, 0)
            self.seen[process] = ticks


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    sampler = Sampler()
    sampler.sample(count=False)  # what each process had spent before the command: not the command's
    sampler.start()
    before, started = machine(), time.monotonic()
    code = subprocess.run(argv).returncode
    sampler.done.set()
    sampler.join()
    wall, spent = time.monotonic() - started, dict(zip(COUNTERS, (b - a for a, b in zip(before, machine()))))
    busy = sum(spent[c] for c in ("user", "nice", "system", "irq", "softirq")) / HZ
    cores = os.cpu_count() or 1
    print(f"\n{' '.join(argv)}: exit {code}, {wall:.0f} s on {cores} cores ({wall * cores:.0f} CPU-s there to use)")
    print(f"the machine spent {busy:.0f} CPU-s ({busy / (wall * cores):.0%} busy); idle {spent['idle'] / HZ:.0f} s, "
          f"waiting on the disk {spent['iowait'] / HZ:.0f} s, stolen {spent['steal'] / HZ:.0f} s")
    print("by kind of process (sampled every 0.5 s):")
    for name, ticks in sampler.by_kind.most_common():
        if ticks / HZ >= 1:
            print(f"  {ticks / HZ:7.0f} CPU-s  {name}")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
