"""Fixtures for the e-mail intake tests: a real dovecot (never a fake IMAP server). Without dovecot the
IMAP tests are skipped locally and fail in CI (.ci/run installs dovecot-imapd)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.mailin.dovecot import DOVECOT, Dovecot
from tests.notifications.gateways.conftest import Pki, pki  # noqa: F401 - the company CA and its server certificate


@pytest.fixture(scope="session")
def dovecot(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[Dovecot]:  # noqa: F811
    if not os.path.exists(DOVECOT):
        if os.environ.get("CI") == "true":
            pytest.fail(
                f"the IMAP intake tests need {DOVECOT} in CI, and it is missing (apt-get install dovecot-imapd)"
            )
        pytest.skip(f"{DOVECOT} is not installed (Debian: apt-get install dovecot-imapd)")
    directory = pki.ca_file.parent
    server = Dovecot(
        tmp_path_factory.mktemp("dovecot"), cert_file=directory / "server.pem", key_file=directory / "server.key"
    )
    server.start()
    yield server
    server.stop()
