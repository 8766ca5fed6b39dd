"""closeloop/env.py: every helper reads NAME or the file NAME_FILE names; e-mail URLs, site address and
proxy header parsed strictly, with messages that name the variable and never repeat a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from closeloop import env
from closeloop.env import ImproperEnvironment


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret"
    path.write_text("s3cret value\n", encoding="utf-8")
    return path


def test_file_variant_is_read_when_the_variable_is_unset(monkeypatch: pytest.MonkeyPatch, secret_file: Path) -> None:
    monkeypatch.delenv("CLOSELOOP_T", raising=False)
    monkeypatch.setenv("CLOSELOOP_T_FILE", str(secret_file))
    assert env.env_str("CLOSELOOP_T") == "s3cret value"  # the file's final newline is not part of it


@pytest.mark.parametrize(
    ("content", "helper", "expected"),
    [("true\n", env.env_bool, True), ("42\n", env.env_int, 42), ("a, b\n", env.env_list, ["a", "b"])],
)
def test_every_helper_reads_the_file_variant(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: str, helper: object, expected: object
) -> None:
    path = tmp_path / "value"
    path.write_text(content)
    monkeypatch.setenv("CLOSELOOP_T_FILE", str(path))
    assert helper("CLOSELOOP_T", None) == expected  # type: ignore[operator]


def test_secret_key_comes_from_its_file(monkeypatch: pytest.MonkeyPatch, secret_file: Path, tmp_path: Path) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("SECRET_KEY_FILE", str(secret_file))
    assert env.persistent_secret_key(tmp_path / "data") == "s3cret value"
    assert not (tmp_path / "data" / "secret_key").exists()


def test_setting_both_is_an_error_naming_both(monkeypatch: pytest.MonkeyPatch, secret_file: Path) -> None:
    monkeypatch.setenv("CLOSELOOP_T", "inline")
    monkeypatch.setenv("CLOSELOOP_T_FILE", str(secret_file))
    with pytest.raises(ImproperEnvironment, match="CLOSELOOP_T and CLOSELOOP_T_FILE are both set"):
        env.env_str("CLOSELOOP_T")


def test_missing_or_empty_file_is_an_error_naming_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CLOSELOOP_T_FILE", str(tmp_path / "absent"))
    with pytest.raises(ImproperEnvironment, match=r"CLOSELOOP_T_FILE=.*cannot be read"):
        env.env_str("CLOSELOOP_T")
    (tmp_path / "empty").write_text("\n")
    monkeypatch.setenv("CLOSELOOP_T_FILE", str(tmp_path / "empty"))
    with pytest.raises(ImproperEnvironment, match=r"CLOSELOOP_T_FILE=.*is empty"):
        env.env_str("CLOSELOOP_T")


def _email(monkeypatch: pytest.MonkeyPatch, url: str) -> env.EmailConfig:
    monkeypatch.setenv("EMAIL_URL", url)
    config = env.env_email_url("EMAIL_URL", file_path="/var/mail-default")
    assert config is not None
    return config


def test_smtp_with_starttls(monkeypatch: pytest.MonkeyPatch) -> None:
    config = _email(monkeypatch, "smtp+tls://closeloop%40example.com:p%40ss%3Aw@mail.example.com:587")
    assert (config.backend, config.host, config.port) == (
        "closeloop.notifications.backends.SmtpEmailBackend",
        "mail.example.com",
        587,
    )
    assert (config.user, config.password) == ("closeloop@example.com", "p@ss:w")
    assert (config.use_tls, config.use_ssl, config.timeout) == (True, False, 30)
    assert _email(monkeypatch, "smtp+tls://mail.example.com").port == 587


def test_smtps_is_tls_from_the_start_on_465(monkeypatch: pytest.MonkeyPatch) -> None:
    config = _email(monkeypatch, "smtps://u:p@mail.example.com")
    assert (config.port, config.use_ssl, config.use_tls) == (465, True, False)
    assert _email(monkeypatch, "smtps://u:p@mail.example.com:2465?timeout=5").port == 2465
    assert _email(monkeypatch, "smtps://u:p@mail.example.com:2465?timeout=5").timeout == 5


def test_other_schemes_and_from_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    # console:// is our masking console backend, never Django's (which prints the recipients).
    assert _email(monkeypatch, "console://").backend == "closeloop.notifications.backends.ConsoleEmailBackend"
    assert _email(monkeypatch, "file:///srv/mail").file_path == "/srv/mail"
    assert _email(monkeypatch, "file://").file_path == "/var/mail-default"
    local = _email(monkeypatch, "smtp://localhost:25?_default_from_email=complaints%40example.com")
    assert (local.host, local.port, local.use_tls, local.default_from_email) == (
        "localhost",
        25,
        False,
        "complaints@example.com",
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("imap://u:topsecret@mail.example.com", "unknown scheme"),
        ("smtp+tls://u:topsecret@mail.example.com:notaport", "bad port"),
        ("smtp+tls://u:topsecret@", "names no mail server"),
    ],
)
def test_bad_email_url_is_refused_without_showing_the_password(
    monkeypatch: pytest.MonkeyPatch, url: str, message: str
) -> None:
    monkeypatch.setenv("EMAIL_URL", url)
    with pytest.raises(ImproperEnvironment, match=message) as exc:
        env.env_email_url("EMAIL_URL", file_path="/tmp/mail")
    assert "EMAIL_URL" in str(exc.value) and "topsecret" not in str(exc.value)


def test_site_url_is_an_absolute_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITE_URL", "https://complaints.example.com/")
    assert env.env_url("SITE_URL", "http://127.0.0.1:8000") == "https://complaints.example.com"
    for bad in ("complaints.example.com", "ftp://complaints.example.com", "https://x.example.com/?a=1"):
        monkeypatch.setenv("SITE_URL", bad)
        with pytest.raises(ImproperEnvironment, match="SITE_URL"):
            env.env_url("SITE_URL", "http://127.0.0.1:8000")


def test_proxy_ssl_header(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECURE_PROXY_SSL_HEADER", raising=False)
    assert env.env_proxy_ssl_header("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto") == (
        "HTTP_X_FORWARDED_PROTO",
        "https",
    )
    assert env.env_proxy_ssl_header("SECURE_PROXY_SSL_HEADER", None) is None
    monkeypatch.setenv("SECURE_PROXY_SSL_HEADER", "off")
    assert env.env_proxy_ssl_header("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto") is None
    monkeypatch.setenv("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto: https")
    with pytest.raises(ImproperEnvironment, match="SECURE_PROXY_SSL_HEADER"):
        env.env_proxy_ssl_header("SECURE_PROXY_SSL_HEADER", None)
