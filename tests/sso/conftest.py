"""Fixtures for the single sign-on tests: a real slapd and a real OpenID Connect provider, both
started by the suite (never mocks). Without slapd the LDAP tests are skipped locally and fail in CI;
the provider is Python (django-oidc-provider, a test dependency) and always runs."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from django.test import Client

from closeloop.sso.conf import LDAP_VARIABLES, OIDC_VARIABLES, SsoSettings, sso_from_env
from tests.sso.slapd import SLAPD, Slapd

PASSWORD_BACKEND = "closeloop.core.backends.ModelBackendOneQuery"
ROOT = Path(__file__).resolve().parents[2]


def _required_binary(path: str, what: str) -> None:
    if shutil.which(path) or os.path.exists(path):
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"the {what} tests need {path} in CI, and it is missing (apt-get install slapd ldap-utils)")
    pytest.skip(f"{path} is not installed (Debian: apt-get install slapd); the {what} tests need it")


@pytest.fixture(scope="session")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    _required_binary(SLAPD, "LDAP sign-in")
    server = Slapd(tmp_path_factory.mktemp("slapd"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def client() -> Client:
    """The messages these tests read are the English source texts."""
    return Client(headers={"Accept-Language": "en"})


@pytest.fixture
def sso_env(monkeypatch: pytest.MonkeyPatch, settings: Any) -> Callable[..., SsoSettings]:
    """Configure single sign-on as an operator would: environment variables, read by sso_from_env.
    Returns the SsoSettings, now also settings.SSO, with the backends in AUTHENTICATION_BACKENDS."""

    def configure(**variables: str) -> SsoSettings:
        for name in (*LDAP_VARIABLES, *OIDC_VARIABLES):
            monkeypatch.delenv(name, raising=False)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        sso = sso_from_env()
        settings.SSO = sso
        settings.AUTHENTICATION_BACKENDS = [PASSWORD_BACKEND, *sso.backends]
        return sso

    return configure


class OidcProvider:
    """The test OpenID Connect provider (tests/sso/oidc_provider/), running in its own process."""

    client_id = "closeloop-desk"
    client_secret = "closeloop-client-secret"  # a throwaway provider on 127.0.0.1

    def __init__(self, workdir: Path, closeloop_url: str) -> None:
        self.workdir = workdir
        self.closeloop_url = closeloop_url
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    @property
    def issuer(self) -> str:
        return f"{self.url}/openid"

    def start(self) -> None:
        client = {
            "name": "CloseLoop",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "redirect_uris": [f"{self.closeloop_url}/sso/oidc/callback/"],
            "post_logout_redirect_uris": [f"{self.closeloop_url}/login/"],
        }
        command = [sys.executable, "-m", "tests.sso.oidc_provider.serve", "--data-dir", str(self.workdir)]
        with (self.workdir / "provider.log").open("w") as log:
            self.process = subprocess.Popen(
                [*command, "--client", json.dumps(client)], cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True
            )
        assert self.process.stdout is not None
        for line in self.process.stdout:  # serve.py prints READY <port> once it listens
            if line.startswith("READY "):
                self.url = f"http://127.0.0.1:{int(line.split()[1])}"
                return
        raise RuntimeError(f"the test provider did not start: {(self.workdir / 'provider.log').read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            if self.process.stdout is not None:
                self.process.stdout.close()

    def signing_key(self) -> tuple[str, str]:
        """(kid, private key PEM) the provider signs ID tokens with, read from its database, so a test
        can make tokens that are validly signed but wrong in another way."""
        with sqlite3.connect(self.workdir / "provider.sqlite3") as db:
            (pem,) = db.execute("SELECT key FROM oidc_provider_rsakey").fetchone()
        return hashlib.md5(pem.encode()).hexdigest(), pem  # noqa: S324 - django-oidc-provider's kid

    def put_user(self, username: str, password: str, *, groups: list[str], **profile: str) -> None:
        """Create or change a user at the provider (name, e-mail, groups), as its administrator would."""
        response = requests.post(
            f"{self.url}/testing/users/",
            json={"username": username, "password": password, "groups": groups, **profile},
            timeout=10,
        )
        response.raise_for_status()


@pytest.fixture(scope="session")
def oidc_provider(live_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    provider = OidcProvider(tmp_path_factory.mktemp("oidc-provider"), live_server.url)
    provider.start()
    yield provider
    provider.stop()
