"""The soak's audit on a short run: two web processes, two Huey workers, one PostgreSQL and one Redis;
a worker SIGKILLed and restarted and PostgreSQL restarted mid-run. `make soak` runs the long version.

Run alone (`pytest -m soak tests/soak`), never beside other tests: it restarts PostgreSQL."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.soak


def _reachable() -> tuple[bool, bool]:
    import psycopg
    import redis

    try:
        psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", connect_timeout=3).close()
        pg = True
    except psycopg.Error:
        pg = False
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/13", socket_connect_timeout=3).ping()
        rd = True
    except redis.RedisError:
        rd = False
    return pg, rd


def test_short_soak_audit_passes() -> None:
    pg, rd = _reachable()
    if not (pg and rd):
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI: the soak needs PostgreSQL ({pg}) and Redis ({rd})")
        pytest.skip("PostgreSQL or Redis not reachable")
    sys.path.insert(0, str(ROOT / "bench" / "soak"))
    spec = importlib.util.spec_from_file_location("soak_run", ROOT / "bench" / "soak" / "run.py")
    assert spec and spec.loader
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    seconds = os.environ.get("SOAK_SECONDS", "75")
    code = run.main(["--duration", seconds, "--users", "6"])
    report = json.loads((ROOT / "var" / "soak" / "report.json").read_text(encoding="utf-8"))
    assert report["problems"] == [], report["problems"]
    assert code == 0
    # The run did what it claims: writes journaled, requests served, the worker killed.
    assert report["statuses"], "no request served"
    assert any("SIGKILL" in event["what"] for event in report["chaos"])
    if run.postgres_restart_command() is not None:
        assert any("PostgreSQL restarted" in event["what"] for event in report["chaos"])
