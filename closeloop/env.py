"""Typed helpers that read settings from the environment and fail loudly on bad values.

Every helper reads `NAME` or, when that is unset, the file named by `NAME_FILE` (how container
orchestrators and systemd's credentials hand secrets over without putting them in the environment).
Setting both is an error. Messages name the variable and never repeat a secret read from a file.
"""

from __future__ import annotations

import json
import os
import secrets
import ssl
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

import dj_email_url


class ImproperEnvironment(ValueError):
    pass


def env_raw(name: str) -> str | None:
    """`NAME`, or the contents of the file `NAME_FILE` names; None when neither is set (or `NAME` is empty)."""
    value = os.environ.get(name, "")
    file_name = os.environ.get(f"{name}_FILE", "")
    if value and file_name:
        raise ImproperEnvironment(f"{name} and {name}_FILE are both set: set only one of them")
    if not file_name:
        return value or None
    try:
        text = Path(file_name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ImproperEnvironment(f"{name}_FILE={file_name!r} cannot be read: {reason}") from None
    # `echo secret > file` and most secret stores end the file with a newline that is not part of it.
    text = text.rstrip("\r\n")
    if not text:
        raise ImproperEnvironment(f"{name}_FILE={file_name!r} is empty")
    return text


@overload
def env_str(name: str, default: str) -> str: ...
@overload
def env_str(name: str, default: None = None) -> str | None: ...


def env_str(name: str, default: str | None = None) -> str | None:
    value = env_raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool = False) -> bool:
    value = env_raw(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperEnvironment(f"{name}={value!r} is not a boolean (use true/false)")


def env_int(name: str, default: int) -> int:
    value = env_raw(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperEnvironment(f"{name}={value!r} is not an integer") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = env_raw(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_json(name: str, default: Any) -> Any:
    """A JSON document (e.g. a mapping); the message on a syntax error gives the position, not the text,
    which may hold a secret such as a webhook key."""
    value = env_raw(name)
    if value is None:
        return default
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise ImproperEnvironment(
            f"{name} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None


def env_ca_file(name: str) -> str | None:
    """The path of a PEM file of CA certificates, checked by loading it; None when unset."""
    path = env_str(name)
    if path is None:
        return None
    try:
        ssl.create_default_context().load_verify_locations(cafile=path)
    except (OSError, ssl.SSLError) as exc:
        # ssl.SSLError is an OSError too: test for it first.
        reason = "no PEM certificate in it" if isinstance(exc, ssl.SSLError) else exc.strerror or str(exc)
        raise ImproperEnvironment(f"{name}={path!r} cannot be used: {reason}") from None
    return path


def env_url(name: str, default: str) -> str:
    """An absolute http(s) address without query or fragment, with no trailing slash (paths are appended)."""
    value = env_raw(name)
    if value is None:
        return default
    parts = urllib.parse.urlsplit(value.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
        raise ImproperEnvironment(f"{name}={value!r} is not an address like https://complaints.example.com")
    return value.strip().rstrip("/")


def env_proxy_ssl_header(name: str, default: str | None) -> tuple[str, str] | None:
    """The header a TLS-terminating proxy sets to `https`, as Django's (META key, value) pair; `off`: none."""
    value = env_raw(name)
    header = default if value is None else value.strip()
    if header is None or header.lower() in {"off", "none", "false", "0"}:
        return None
    if not header.replace("-", "").replace("_", "").isalnum():
        raise ImproperEnvironment(f"{name}={value!r} is not a header name like X-Forwarded-Proto (or off)")
    return ("HTTP_" + header.upper().replace("-", "_"), "https")


@dataclass(frozen=True)
class EmailConfig:
    """Django's EMAIL_* settings as one e-mail URL describes them."""

    backend: str
    host: str
    port: int
    user: str
    password: str
    use_tls: bool
    use_ssl: bool
    timeout: int
    file_path: str
    default_from_email: str | None
    server_email: str | None


# The schemes and what they mean; `smtp+tls` and `smtps` are read the way mail clients name them
# (dj-email-url reads `smtps` as STARTTLS, which hangs against a port-465 server).
EMAIL_SCHEMES = {
    "smtp+tls": "SMTP with STARTTLS (default port 587)",
    "submission": "SMTP with STARTTLS (default port 587)",
    "smtps": "SMTP over TLS (default port 465)",
    "smtp": "SMTP without TLS unless ?tls=true or ?ssl=true (default port 25): only for a relay on this host",
    "console": "printed to the log",
    "file": "written as files into the directory given as the path",
    "memory": "kept in memory (tests)",
    "dummy": "dropped",
}
EMAIL_TIMEOUT_SECONDS = 30
# Logs each message with its recipients masked; Django's own console backend would print customers'
# addresses into the log (docs/decisions.md, "Go-live: personal data").
CONSOLE_EMAIL_BACKEND = "closeloop.notifications.backends.ConsoleEmailBackend"
# Django's SMTP backend with EXTRA_CA_CERTS trusted beside the system's certificates.
SMTP_EMAIL_BACKEND = "closeloop.notifications.backends.SmtpEmailBackend"


def env_email_url(name: str, *, file_path: str) -> EmailConfig | None:
    """Read an e-mail URL such as `smtp+tls://user:pass@mail.example.com:587`; None when unset.

    `file_path` is the directory for `file://` URLs that name none.
    """
    value = env_raw(name)
    if value is None:
        return None
    parts = urllib.parse.urlsplit(value.strip())
    # What an error message may show: never the password.
    shown = f"{parts.scheme}://{parts.hostname or ''}" + (f":{parts.port}" if _port_or_none(parts) else "")
    scheme = parts.scheme.lower()
    if scheme not in EMAIL_SCHEMES:
        raise ImproperEnvironment(
            f"{name} ({shown}…) has an unknown scheme; use one of {', '.join(sorted(EMAIL_SCHEMES))}"
        )
    normalised = {"smtp+tls": "submission", "smtps": "smtp"}.get(scheme, scheme)
    try:
        conf = dj_email_url.parse(parts._replace(scheme=normalised).geturl())
    except ValueError:
        raise ImproperEnvironment(f"{name} ({shown}…) has a bad port or timeout") from None
    if scheme == "smtps":
        conf.update(EMAIL_USE_SSL=True, EMAIL_USE_TLS=False, EMAIL_PORT=conf["EMAIL_PORT"] if parts.port else 465)
    if normalised in {"smtp", "submission"} and not conf["EMAIL_HOST"]:
        raise ImproperEnvironment(f"{name} ({shown}…) names no mail server")
    backend = {"console": CONSOLE_EMAIL_BACKEND, "smtp": SMTP_EMAIL_BACKEND, "submission": SMTP_EMAIL_BACKEND}.get(
        normalised, conf["EMAIL_BACKEND"]
    )
    return EmailConfig(
        backend=backend,
        host=conf["EMAIL_HOST"] or "localhost",
        port=int(conf["EMAIL_PORT"] or 25),
        user=conf["EMAIL_HOST_USER"] or "",
        password=conf["EMAIL_HOST_PASSWORD"] or "",
        use_tls=bool(conf["EMAIL_USE_TLS"]),
        use_ssl=bool(conf["EMAIL_USE_SSL"]),
        # Without a timeout a silent mail server would hold an outbox worker thread forever.
        timeout=conf["EMAIL_TIMEOUT"] or EMAIL_TIMEOUT_SECONDS,
        file_path=("/" + conf["EMAIL_FILE_PATH"]) if scheme == "file" and conf["EMAIL_FILE_PATH"] else file_path,
        default_from_email=conf.get("DEFAULT_FROM_EMAIL"),
        server_email=conf.get("SERVER_EMAIL"),
    )


def _port_or_none(parts: urllib.parse.SplitResult) -> int | None:
    try:
        return parts.port
    except ValueError:
        return None


def persistent_secret_key(data_dir: Path) -> str:
    """SECRET_KEY (or SECRET_KEY_FILE) from the environment, or one generated once and kept in the data directory.

    Keeping it on disk means sessions and signed links survive a restart of a local install.
    """
    configured = env_str("SECRET_KEY")
    if configured:
        return configured
    key_file = data_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    # O_EXCL: when two processes start at once, exactly one writes and both read the same key.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
