"""The e-mail intake's settings from the environment (docs/operations.md, "E-mail intake").

MAIL_INTAKE_URL lists the mailboxes the worker polls, separated by spaces or new lines, each an IMAP URL
whose query gives what a complaint from that mailbox starts with:

    imaps://complaints%40example.com:secret@mail.example.com/INBOX?name=main&type=quality&priority=normal
    imap+starttls://dealer:secret@mail.example.com:143/Dealers?type=delivery&department=sales&move=Done

Read at settings time: no Django imports here.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

from closeloop.env import ImproperEnvironment

SCHEMES = {"imaps": (993, "tls"), "imap+starttls": (143, "starttls"), "imap": (143, "plain")}
PRIORITIES = {"urgent": 1, "important": 2, "normal": 3, "1": 1, "2": 2, "3": 3}
OPTIONS = frozenset({"name", "type", "priority", "department", "move"})


@dataclass(frozen=True)
class Mailbox:
    """One intake mailbox: where it is and what its complaints start with."""

    name: str
    type_code: str
    priority: int = 3
    department_code: str = ""
    host: str = ""
    port: int = 0
    security: str = "tls"  # tls, starttls or plain (tests and a local relay only)
    user: str = ""
    password: str = ""
    folder: str = "INBOX"
    # Move taken messages to this folder; empty: mark them seen where they are.
    move_to: str = ""

    def __repr__(self) -> str:  # never the password
        return f"Mailbox({self.name!r}, {self.security}://{self.host}:{self.port}/{self.folder})"


def mailbox_from_url(url: str, *, index: int, default_type: str, variable: str = "MAIL_INTAKE_URL") -> Mailbox:
    parts = urllib.parse.urlsplit(url)
    shown = f"{parts.scheme}://{parts.hostname or ''}{parts.path}"  # messages never repeat the password
    if parts.scheme not in SCHEMES:
        raise ImproperEnvironment(f"{variable}: {shown!r} must start with imaps://, imap+starttls:// or imap://")
    if not parts.hostname or not parts.username or parts.password is None:
        raise ImproperEnvironment(f"{variable}: {shown!r} needs user, password and host (imaps://user:pass@host/INBOX)")
    query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    unknown = set(query) - OPTIONS
    if unknown:
        raise ImproperEnvironment(
            f"{variable}: {shown!r} has unknown options {sorted(unknown)} (known: {sorted(OPTIONS)})"
        )
    priority = query.get("priority", "normal").strip().lower()
    if priority not in PRIORITIES:
        raise ImproperEnvironment(f"{variable}: {shown!r} priority must be urgent, important or normal")
    default_port, security = SCHEMES[parts.scheme]
    try:
        port = parts.port or default_port
    except ValueError:
        raise ImproperEnvironment(f"{variable}: {shown!r} has a bad port") from None
    return Mailbox(
        name=query.get("name") or f"mailbox{index}",
        type_code=query.get("type") or default_type,
        priority=PRIORITIES[priority],
        department_code=query.get("department", ""),
        host=parts.hostname,
        port=port,
        security=security,
        user=urllib.parse.unquote(parts.username),
        password=urllib.parse.unquote(parts.password),
        folder=urllib.parse.unquote(parts.path.lstrip("/")) or "INBOX",
        move_to=query.get("move", ""),
    )


def mailboxes_from_env(value: str | None, *, name: str, default_type: str) -> list[Mailbox]:
    """The mailboxes of `value`, the variable `name` read by settings (URLs separated by white space)."""
    if not value:
        return []
    boxes = [
        mailbox_from_url(url, index=i, default_type=default_type, variable=name)
        for i, url in enumerate(value.split(), start=1)
    ]
    names = [box.name for box in boxes]
    if len(set(names)) != len(names):
        raise ImproperEnvironment(f"{name}: two mailboxes share a name; give each its own ?name=")
    return boxes
