"""Tests of the benchmark scripts. They are scripts under bench/, not a package: `bench_script` loads one
by its path, under a name of its own (registered in sys.modules, as dataclasses and pickling need)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[2] / "bench"


def bench_script(relative: str, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCH / relative)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
