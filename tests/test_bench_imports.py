"""Every benchmark still imports: `make bench` is run rarely, and a module moved under it breaks it unseen
(bench photos once imported `attach` from where it no longer was)."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import bench

MODULES = sorted(m.name for m in pkgutil.iter_modules(bench.__path__))


@pytest.mark.parametrize("name", MODULES)
def test_the_benchmark_imports(name):
    importlib.import_module(f"bench.{name}")
