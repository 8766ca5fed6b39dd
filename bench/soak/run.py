"""Multi-node soak: two web processes and two Huey workers on one PostgreSQL and one Redis, driven by
locust (headless) for a bounded time; one worker is SIGKILLed and restarted, PostgreSQL is restarted
once; then an audit of the database proves nothing was lost or doubled.

    .venv/bin/python bench/soak/run.py --duration 600          # make soak
    .venv/bin/python bench/soak/run.py --duration 60 --users 8  # the CI run (tests/soak)

Writes var/soak/report.json and exits 1 when the audit finds a problem.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench" / "soak"))
BIN = Path(sys.executable).parent
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/closeloop_soak"
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"


def log(message: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", flush=True)


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def postgres_restart_command() -> list[str] | None:
    """The command that restarts the local cluster, when this machine runs one we may restart."""
    if shutil.which("pg_ctlcluster") is None or not Path("/etc/postgresql").is_dir():
        return None
    versions = sorted(os.listdir("/etc/postgresql"))
    if not versions:
        return None
    return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "restart", "-m", "fast"]


class Cluster:
    """The processes under test."""

    def __init__(self, env: dict[str, str], work: Path, ports: list[int]) -> None:
        self.env, self.work, self.ports = env, work, ports
        self.web: list[subprocess.Popen[bytes]] = []
        self.workers: list[subprocess.Popen[bytes] | None] = [None, None]
        self.events: list[dict[str, Any]] = []

    def _spawn(self, args: list[str], logname: str) -> subprocess.Popen[bytes]:
        out = open(self.work / logname, "ab")  # noqa: SIM115 - closed with the process
        return subprocess.Popen(args, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def start(self) -> None:
        for index, port in enumerate(self.ports):
            self.web.append(
                self._spawn(
                    [
                        str(BIN / "gunicorn"),
                        "closeloop.wsgi:application",
                        "--config",
                        "python:closeloop.gunicorn_conf",
                        "--bind",
                        f"127.0.0.1:{port}",
                        "--workers",
                        "1",
                        "--threads",
                        "4",
                        "--access-logfile",
                        str(self.work / f"access-{index}.log"),
                        "--access-logformat",
                        '%(s)s %(m)s "%(U)s" %(M)s',
                        "--timeout",
                        "60",
                        # Longer than any pause of the load generator: an idle keep-alive connection
                        # closed by the server just as the client reuses it is a client-side race.
                        "--keep-alive",
                        "120",
                        "--control-socket",
                        str(self.work / f"gunicorn-{index}.ctl"),
                    ],
                    f"web-{index}.log",
                )
            )
        for index in range(2):
            self.start_worker(index)
        for port in self.ports:
            wait_http(f"http://127.0.0.1:{port}/login/", 60)

    def start_worker(self, index: int) -> None:
        self.workers[index] = self._spawn(
            [str(BIN / "python"), "-m", "closeloop", "run_huey", "--workers", "2", "--worker-type", "thread"],
            f"worker-{index}.log",
        )

    def kill_worker(self, index: int) -> None:
        worker = self.workers[index]
        assert worker is not None
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        self.events.append({"at": time.time(), "what": f"worker {index} SIGKILL"})

    def stop(self) -> None:
        for proc in [*self.web, *[w for w in self.workers if w is not None]]:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in [*self.web, *[w for w in self.workers if w is not None]]:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def wait_http(url: str, timeout: float) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s")


def prepare(env: dict[str, str]) -> dict[str, str]:
    """Migrate, load the demo data, and create the API keys the load uses (in a child process)."""
    subprocess.run([str(BIN / "python"), "-m", "closeloop", "migrate", "-v0"], env=env, check=True)
    subprocess.run([str(BIN / "python"), "-m", "closeloop", "createcachetable"], env=env, check=True)
    subprocess.run([str(BIN / "python"), "-m", "closeloop", "demo"], env=env, check=True, stdout=subprocess.DEVNULL)
    # Fast clocks, so that warnings, breaches and escalations happen (and are audited) within the run.
    fast = (
        "from closeloop.sla.models import PolicyTarget; "
        "PolicyTarget.objects.filter(milestone__in=['first_response', 'resolution'])"
        ".update(urgent='1min', important='1min', normal='2min')"
    )
    subprocess.run([str(BIN / "python"), "-m", "closeloop", "shell", "-c", fast], env=env, check=True)
    keys = {}
    for role, username in (("agent", "agent"), ("handler", "handler"), ("manager", "gm")):
        out = subprocess.run(
            [str(BIN / "python"), "-m", "closeloop", "token", "create", "--user", username, "--name", f"soak-{role}"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        keys[role] = out.stdout.strip().splitlines()[-1]
    return keys


def chaos(cluster: Cluster, duration: float, restart_pg: list[str] | None, stop: threading.Event) -> None:
    """At a third of the run SIGKILL worker 0 and restart it; at two thirds restart PostgreSQL."""
    if stop.wait(duration / 3):
        return
    log("SIGKILL worker 0")
    cluster.kill_worker(0)
    time.sleep(2)
    cluster.start_worker(0)
    cluster.events.append({"at": time.time(), "what": "worker 0 restarted"})
    if stop.wait(duration / 3):
        return
    if restart_pg:
        log("restarting PostgreSQL: " + " ".join(restart_pg))
        started = time.time()
        subprocess.run(restart_pg, check=True)
        cluster.events.append({"at": time.time(), "what": f"PostgreSQL restarted in {time.time() - started:.1f} s"})
    else:
        cluster.events.append({"at": time.time(), "what": "PostgreSQL restart skipped (no local cluster)"})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=600, help="seconds of load")
    parser.add_argument("--users", type=int, default=12, help="simulated users")
    parser.add_argument("--database-url", default=os.environ.get("SOAK_DATABASE_URL", DEFAULT_PG))
    parser.add_argument("--redis-url", default=os.environ.get("SOAK_REDIS_URL", DEFAULT_REDIS))
    parser.add_argument("--ports", default="8101,8102")
    parser.add_argument("--no-postgres-restart", action="store_true")
    parser.add_argument("--drain-timeout", type=int, default=150, help="seconds to wait for the queues")
    args = parser.parse_args(argv)

    work = ROOT / "var" / "soak"
    shutil.rmtree(work, ignore_errors=True)
    (work / "mail").mkdir(parents=True)
    (work / "data").mkdir(parents=True)
    recreate_database(args.database_url)
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "HUEY_NAME": "soak",
        "HUEY_IMMEDIATE": "false",
        "CLOSELOOP_DATA_DIR": str(work / "data"),
        "SECRET_KEY": "soak-secret-key-not-for-production-0123456789",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(work / "mail"),
        "DB_CONN_MAX_AGE": "60",
        # A worker killed while sending leaves its claim behind; recover it well within the run.
        "OUTBOX_STALE_SECONDS": "20",
        "PYTHONUNBUFFERED": "1",
    }
    log(f"preparing {args.database_url}")
    keys = prepare(env)
    from audit import audit, baseline, drain

    baseline(env, work)
    ports = [int(p) for p in args.ports.split(",")]
    cluster = Cluster(env, work, ports)
    cluster.start()
    log(f"2 web processes on {ports}, 2 Huey workers; {args.users} users for {args.duration} s")
    stop = threading.Event()
    restart_pg = None if args.no_postgres_restart else postgres_restart_command()
    chaos_thread = threading.Thread(target=chaos, args=(cluster, args.duration, restart_pg, stop), daemon=True)
    load_env = {
        **env,
        "SOAK_HOSTS": ",".join(f"http://127.0.0.1:{p}" for p in ports),
        "SOAK_AGENT_KEY": keys["agent"],
        "SOAK_HANDLER_KEY": keys["handler"],
        "SOAK_MANAGER_KEY": keys["manager"],
        "SOAK_JOURNAL": str(work / "journal.jsonl"),
    }
    started = time.time()
    chaos_thread.start()
    locust = subprocess.run(
        [
            str(BIN / "locust"),
            "-f",
            str(ROOT / "bench" / "soak" / "locustfile.py"),
            "--headless",
            "--users",
            str(args.users),
            "--spawn-rate",
            str(max(1, args.users // 2)),
            "--run-time",
            f"{args.duration}s",
            "--csv",
            str(work / "locust"),
            "--only-summary",
            "--exit-code-on-error",
            "0",
        ],
        env=load_env,
        cwd=work,
        capture_output=True,
        text=True,
    )
    stop.set()
    chaos_thread.join()
    (work / "locust.out").write_text(locust.stdout + locust.stderr, encoding="utf-8")
    log(f"load finished after {time.time() - started:.0f} s; draining the queues")

    drained = drain(env, args.drain_timeout)
    cluster.stop()
    report = audit(env, work)
    report.update(
        {
            "duration_s": args.duration,
            "users": args.users,
            "drained": drained,
            "chaos": cluster.events,
            "locust_exit": locust.returncode,
        }
    )
    (work / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    for line in report["lines"]:
        print(line)
    if report["problems"]:
        print("AUDIT FAILED:")
        for problem in report["problems"]:
            print("  -", problem)
        return 1
    print("audit passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
