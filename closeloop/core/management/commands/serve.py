"""`closeloop serve`: what `make run` starts — migrate, demo data, then gunicorn and the Huey worker.

Both children run in their own process groups; Ctrl-C (or SIGTERM) stops both and waits for them.
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


class Command(BaseCommand):
    help = "Migrate, load demo data, and run the web server (gunicorn) and the Huey worker until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--web-workers", type=int, default=int(os.environ.get("WEB_WORKERS", "2")))
        parser.add_argument("--no-demo", action="store_true", help="do not load demo users and complaints")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        if not options["no_demo"]:
            call_command("demo")

        url = f"http://{options['host']}:{options['port']}/"
        python = sys.executable
        web = subprocess.Popen(
            [
                python,
                "-m",
                "gunicorn",
                "closeloop.wsgi:application",
                "--bind",
                f"{options['host']}:{options['port']}",
                "--workers",
                str(options["web_workers"]),
                "--access-logfile",
                "-",
                "--graceful-timeout",
                "5",
            ],
            start_new_session=True,
        )
        worker = subprocess.Popen([python, "-m", "closeloop", "run_huey"], start_new_session=True)
        children = [web, worker]

        self.stdout.write(self.style.SUCCESS(f"\nCloseLoop is running at {url}"))
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
