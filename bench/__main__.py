"""Run the benchmarks: `python -m bench [name ...]`."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time

import bench


def main(argv: list[str]) -> int:
    names = sorted(
        m.name[len("bench_"):] for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_")
    )
    wanted = argv or names
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(names)}", file=sys.stderr)
        return 2
    from bench.history import _code_key

    for name in wanted:
        print(f"\n=== bench {name} ===", flush=True)
        started = time.perf_counter()
        code = _code_key()
        importlib.import_module(f"bench.bench_{name}").main()
        if _code_key() != code:
            # Others edit this working tree: say so when the store's code moved under a benchmark.
            print(f"WARNING: the store's or the schema's code changed while bench {name} ran; its figures mix versions",
                  flush=True)
        print(f"(bench {name} took {time.perf_counter() - started:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
