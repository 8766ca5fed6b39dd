"""`closeloop check --deploy` with the production environment documented in docs/operations.md reports
no issue at all; without SITE_URL it fails naming the variable; the local demo's `closeloop check`
stays clean. Each runs in a fresh process, as an operator would."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET_CONTENT = {
    "SECRET_KEY_FILE": secrets.token_urlsafe(50),
    "EMAIL_URL_FILE": "smtp+tls://complaints%40example.com:mail-secret@mail.example.com:587",
    "REDIS_URL_FILE": "redis://127.0.0.1:6379/15",
    "SMS_TEMPLATES_FILE": json.dumps(
        {
            kind: {"template": f"SMS_48012000{n}", "params": {"code": "number"}}
            for n, kind in enumerate(
                (
                    "customer_acknowledged",
                    "customer_solution",
                    "customer_resolved",
                    "survey",
                    "customer_message",
                )
            )
        }
    ),
}


def documented_production_environment() -> dict[str, str]:
    """The NAME=value lines of the production example in docs/operations.md."""
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    section = text[text.index("### A production environment") :]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "the production example is a ```sh block"
    variables = {}
    for line in block.group(1).splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            variables[name] = value.strip('"')
    return variables


def clean_environment(tmp_path: Path) -> dict[str, str]:
    """This process's environment without any CloseLoop setting, with a data directory of its own."""
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV"}
    environment = {k: v for k, v in os.environ.items() if k in keep}
    environment["CLOSELOOP_DATA_DIR"] = str(tmp_path / "data")
    return environment


def production_environment(tmp_path: Path) -> dict[str, str]:
    environment = clean_environment(tmp_path)
    for name, value in documented_production_environment().items():
        if name.endswith("_FILE"):  # the secrets, written where the test can put them
            path = tmp_path / name.lower()
            content = SECRET_CONTENT.get(name) or f"sqlite:///{tmp_path / 'production.sqlite3'}"
            path.write_text(content + "\n", encoding="utf-8")
            path.chmod(0o600)
            value = str(path)
        environment[name] = value
    return environment


def closeloop(environment: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "closeloop", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_documented_example_is_a_production_environment() -> None:
    documented = documented_production_environment()
    assert documented["SITE_URL"].startswith("https://") and documented["HTTPS"] == "true"
    assert documented["ALLOWED_HOSTS"] != "*" and "DEBUG" not in documented
    for secret in ("SECRET_KEY", "DATABASE_URL", "EMAIL_URL"):
        assert secret not in documented and f"{secret}_FILE" in documented  # secrets only from files


def test_check_deploy_with_the_documented_production_environment_reports_nothing(tmp_path: Path) -> None:
    result = closeloop(production_environment(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
    assert "mail-secret" not in output


def test_the_production_environment_reaches_the_settings(tmp_path: Path) -> None:
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; print(json.dumps(["
        "s.SITE_URL, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS,"
        "list(s.SECURE_PROXY_SSL_HEADER), s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_HOST_USER,"
        "s.EMAIL_HOST_PASSWORD, s.EMAIL_USE_TLS, s.DEFAULT_FROM_EMAIL, s.SERVER_EMAIL, s.SECRET_KEY,"
        "s.DATABASES['default']['NAME'], s.HUEY['url'], s.CACHES['default']['LOCATION']]))"
    )
    environment = production_environment(tmp_path)
    environment["DJANGO_SETTINGS_MODULE"] = "closeloop.settings"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        "https://complaints.example.com",
        True,
        True,
        True,
        365 * 24 * 3600,
        ["HTTP_X_FORWARDED_PROTO", "https"],
        "closeloop.notifications.backends.SmtpEmailBackend",
        "mail.example.com",
        587,
        "complaints@example.com",
        "mail-secret",
        True,
        "客诉中心 <complaints@example.com>",
        "客诉中心 <complaints@example.com>",
        SECRET_CONTENT["SECRET_KEY_FILE"],
        str(tmp_path / "production.sqlite3"),
        "redis://127.0.0.1:6379/15",
        "redis://127.0.0.1:6379/15",
    ]


def test_check_deploy_without_site_url_fails_naming_it(tmp_path: Path) -> None:
    environment = production_environment(tmp_path)
    del environment["SITE_URL"]
    environment["HTTPS"] = "false"  # else the always-on check stops it first (next test)
    result = closeloop(environment, "check", "--deploy")
    assert result.returncode != 0
    assert "closeloop.E002" in result.stderr and "SITE_URL" in result.stderr


def test_https_with_an_http_site_url_stops_every_command(tmp_path: Path) -> None:
    environment = production_environment(tmp_path)
    del environment["SITE_URL"]  # the local default, http://127.0.0.1:8000
    result = closeloop(environment, "check")
    assert result.returncode != 0
    assert "closeloop.E001" in result.stderr and "SITE_URL" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("EMAIL_URL", "imap://u:mail-secret@mail.example.com"),
        ("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend"),  # beside EMAIL_URL_FILE
        ("HTTPS", "maybe"),
        ("SITE_URL", "complaints"),
    ],
)
def test_a_bad_value_stops_the_start_naming_the_variable(tmp_path: Path, name: str, value: str) -> None:
    environment = production_environment(tmp_path)
    environment.pop(f"{name}_FILE", None)
    environment[name] = value
    result = closeloop(environment, "check")
    assert result.returncode != 0
    assert name in result.stderr and "mail-secret" not in result.stderr


def test_the_local_demo_checks_clean(tmp_path: Path) -> None:
    result = closeloop(clean_environment(tmp_path), "check")
    assert result.returncode == 0 and "no issues" in result.stdout, result.stdout + result.stderr
