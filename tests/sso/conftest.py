"""Fixtures for the single sign-on tests: a real slapd and a real OpenID Connect provider, both
started by the suite (never mocks). Without slapd the LDAP tests are skipped locally and fail in CI."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from closeloop.sso.conf import LDAP_VARIABLES, OIDC_VARIABLES, SsoSettings, sso_from_env
from tests.sso.slapd import SLAPD, Slapd

PASSWORD_BACKEND = "closeloop.core.backends.ModelBackendOneQuery"


def _required_binary(path: str, what: str) -> None:
    if shutil.which(path) or os.path.exists(path):
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required in CI but {path} is missing (apt-get install slapd ldap-utils)")
    pytest.skip(f"{path} is not installed (Debian: apt-get install slapd); the {what} tests need it")


@pytest.fixture(scope="session")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    _required_binary(SLAPD, "LDAP sign-in")
    server = Slapd(tmp_path_factory.mktemp("slapd"))
    server.start()
    yield server
    server.stop()


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
