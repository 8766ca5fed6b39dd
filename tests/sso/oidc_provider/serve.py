"""Run the test OpenID Connect provider: `python -m tests.sso.oidc_provider.serve --data-dir DIR --client JSON`.

Binds 127.0.0.1 on a free port first (so the issuer URL is known before Django starts), migrates a
fresh SQLite database in DIR, creates the RSA signing key and the client, then prints `READY <port>`
on stdout and serves until killed. Users are created and changed through `/testing/users/`
(see `views.py`), so a test can change what the provider says between two sign-ins.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass  # one line per request would bury the test output


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", required=True, type=Path)
    parser.add_argument("--client", required=True, help="JSON: client_id, client_secret, redirect_uris, …")
    args = parser.parse_args()

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.sso.oidc_provider.settings"
    os.environ["OIDC_TEST_PROVIDER_DB"] = str(args.data_dir / "provider.sqlite3")
    os.environ["OIDC_TEST_PROVIDER_URL"] = f"http://127.0.0.1:{port}"

    import django

    django.setup()
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application
    from oidc_provider.models import Client, ResponseType

    call_command("migrate", verbosity=0, interactive=False)
    call_command("creatersakey", verbosity=0)
    spec = json.loads(args.client)
    client = Client.objects.create(
        name=spec["name"],
        client_type="confidential",
        client_id=spec["client_id"],
        client_secret=spec["client_secret"],
        jwt_alg="RS256",
        redirect_uris=spec["redirect_uris"],
        post_logout_redirect_uris=spec.get("post_logout_redirect_uris", []),
        require_consent=True,
        reuse_consent=False,
    )
    client.response_types.add(ResponseType.objects.get(value="code"))

    server = _ThreadingServer(("127.0.0.1", port), _QuietHandler, bind_and_activate=False)
    server.socket.close()
    server.socket = sock
    server.server_activate()
    server.server_name, server.server_port = "127.0.0.1", port
    server.setup_environ()
    server.set_app(get_wsgi_application())
    print(f"READY {port}", flush=True)
    # The test reads stdout only up to READY; anything later goes to the log, never into a full pipe.
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    server.serve_forever()


if __name__ == "__main__":
    main()
