"""`closeloop serve`: what `make run` starts — migrate, demo data, then gunicorn and the Huey worker.

Both children run in their own process groups; Ctrl-C (or SIGTERM) stops both and waits for them.
They get HOST and PORT from the options, so that without SITE_URL the links they put into messages
point at the address printed here (settings.SITE_URL's local default).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


def gunicorn_command(*, host: str, port: int, workers: int) -> list[str]:
    """The web server's command line. Its access log goes to stdout with the query strings masked
    (closeloop.core.accesslog: searches carry phone numbers and e-mail addresses)."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "closeloop.wsgi:application",
        "--config",
        "python:closeloop.gunicorn_conf",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--access-logfile",
        "-",
        "--logger-class",
        "closeloop.core.accesslog.MaskingGunicornLogger",
        "--graceful-timeout",
        "5",
    ]


class Command(BaseCommand):
    help = "Migrate, load demo data, and run the web server (gunicorn) and the Huey worker until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=settings.SERVE_HOST)
        parser.add_argument("--port", type=int, default=settings.SERVE_PORT)
        parser.add_argument("--web-workers", type=int, default=settings.SERVE_WEB_WORKERS)
        parser.add_argument("--no-demo", action="store_true", help="do not load demo users and complaints")

    def handle(self, *args: Any, **options: Any) -> None:
        if "SITE_URL" not in os.environ and "SITE_URL_FILE" not in os.environ:
            # SITE_URL's local default was computed from HOST/PORT when settings loaded; --host/--port
            # given here must reach the links the demo prints, as they reach the children below.
            settings.SITE_URL = f"http://{options['host']}:{options['port']}"
        call_command("migrate", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        if not options["no_demo"]:
            call_command("demo")

        url = f"http://{options['host']}:{options['port']}/"
        python = sys.executable
        env = {**os.environ, "HOST": options["host"], "PORT": str(options["port"])}
        web = subprocess.Popen(
            gunicorn_command(host=options["host"], port=options["port"], workers=options["web_workers"]),
            start_new_session=True,
            env=env,
        )
        worker = subprocess.Popen([python, "-m", "closeloop", "run_huey"], start_new_session=True, env=env)
        children = [web, worker]

        self.stdout.write(self.style.SUCCESS(f"\nCloseLoop is running at {url}"))
        if "SITE_URL" not in os.environ and "SITE_URL_FILE" not in os.environ:
            self.stdout.write("  links in SMS and e-mail point here; set SITE_URL for another address")
        self.stdout.write(f"  portal: {url}portal/   API docs: {url}api/v1/docs   admin: {url}admin/")
        if not options["no_demo"]:
            from closeloop.demo.logins import DEMO_PASSWORD, demo_login_lines

            self.stdout.write(f"  demo logins (password {DEMO_PASSWORD}):")
            for line in demo_login_lines()[1:]:
                self.stdout.write(f"    {line}")
        self.stdout.write(
            f"  database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}; press Ctrl-C to stop.\n"
        )

        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping and all(child.poll() is None for child in children):
                time.sleep(0.3)
        finally:
            for child in children:
                if child.poll() is None:
                    os.killpg(child.pid, signal.SIGTERM)
            deadline = time.monotonic() + 15
            for child in children:
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    os.killpg(child.pid, signal.SIGKILL)
                    child.wait()
        failed = [c for c in children if c.returncode not in (0, -signal.SIGTERM, None)]
        if failed and not stopping:
            raise SystemExit(f"a child process exited with {failed[0].returncode}")
        self.stdout.write("CloseLoop stopped.")
