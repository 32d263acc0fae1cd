"""Benchmarks: `make bench` (python -m bench) runs every bench_*.py here.

Each prints its figures beside a baseline measured in the same run, and the
ratio; the machine is shared and noisy, so absolute times drift but ratios
hold. `python -m bench store` runs only bench_store.py.
"""
