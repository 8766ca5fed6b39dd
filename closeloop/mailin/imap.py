"""IMAP polling by the worker: each mailbox of MAIL_INTAKE_URL, its unseen messages through the same
service as the MTA pipe (closeloop/mailin/services.py).

A message is marked seen (or moved to the mailbox's `move` folder) only after the transaction that took
it commits (`transaction.on_commit`): a crash or a database error leaves it unseen, and the next poll
takes it again — the unique Message-ID makes that second time a no-op if the first had committed.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import imaplib
import logging
import re
import ssl

from django.conf import settings
from django.db import DatabaseError, transaction

from closeloop.core.masking import mask_log_text
from closeloop.mailin.conf import Mailbox
from closeloop.mailin.services import TemporaryFailure, mail_ingest

log = logging.getLogger(__name__)

# Messages taken per mailbox and poll; the next poll takes the rest.
BATCH = 200


def _ssl_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    if settings.EXTRA_CA_CERTS:
        context.load_verify_locations(cafile=settings.EXTRA_CA_CERTS)
    return context


def imap_connect(mailbox: Mailbox) -> imaplib.IMAP4:
    timeout = settings.MAIL_IMAP_TIMEOUT_SECONDS
    connection: imaplib.IMAP4
    if mailbox.security == "tls":
        connection = imaplib.IMAP4_SSL(mailbox.host, mailbox.port, ssl_context=_ssl_context(), timeout=timeout)
    else:
        connection = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=timeout)
        if mailbox.security == "starttls":
            connection.starttls(ssl_context=_ssl_context())
    connection.login(mailbox.user, mailbox.password)
    return connection


def imap_folder_name(folder: str) -> str:
    """A folder name as IMAP spells it (RFC 3501's modified UTF-7: 投诉 → &YpWLyQ-), quoted."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            encoded = base64.b64encode("".join(pending).encode("utf-16-be")).decode().rstrip("=")
            out.append("&" + encoded.replace("/", ",") + "-")
            pending.clear()

    for char in folder:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return '"' + "".join(out).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _done(connection: imaplib.IMAP4, uid: bytes, mailbox: Mailbox) -> None:
    """After commit: the message is not offered again."""
    if mailbox.move_to:
        _status, data = connection.capability()
        if b"MOVE" in (data[0] or b"").upper().split():
            connection.uid("MOVE", uid.decode(), imap_folder_name(mailbox.move_to))
            return
        connection.uid("COPY", uid.decode(), imap_folder_name(mailbox.move_to))
        connection.uid("STORE", uid.decode(), "+FLAGS.SILENT", r"(\Deleted \Seen)")
        connection.expunge()
        return
    connection.uid("STORE", uid.decode(), "+FLAGS.SILENT", r"(\Seen)")


def mailbox_poll(mailbox: Mailbox) -> dict[str, int]:
    """Take the mailbox's unseen messages; counts of what became of them."""
    counts = {"taken": 0, "retry": 0}
    connection = imap_connect(mailbox)
    try:
        status, _data = connection.select(imap_folder_name(mailbox.folder))
        if status != "OK":
            raise TemporaryFailure(f"mailbox {mailbox.name}: cannot select its folder")
        if mailbox.move_to:
            connection.create(imap_folder_name(mailbox.move_to))  # NO when it exists: fine
        status, data = connection.uid("SEARCH", "UNSEEN")
        uids = (data[0] or b"").split()[:BATCH] if status == "OK" else []
        for uid in uids:
            # BODY.PEEK leaves \Seen alone: only the commit marks it.
            status, fetched = connection.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
            raw = next((item[1] for item in fetched if isinstance(item, tuple)), None) if status == "OK" else None
            if raw is None:
                counts["retry"] += 1
                continue
            try:
                with transaction.atomic():
                    mail_ingest(raw=raw, mailbox=mailbox)
                    transaction.on_commit(functools.partial(_done, connection, uid, mailbox))
            except Exception as exc:  # any failure, a bug included: the message stays unseen for the next round
                expected = isinstance(exc, TemporaryFailure | DatabaseError)
                log.log(
                    logging.ERROR if expected else logging.CRITICAL,
                    "mailbox %s: message left for the next poll: %s: %s",
                    mailbox.name,
                    type(exc).__name__,
                    mask_log_text(str(exc))[:500],
                )
                counts["retry"] += 1
                continue
            counts["taken"] += 1
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            connection.logout()
    return counts


def mailboxes_poll() -> dict[str, dict[str, int]]:
    """One round over every mailbox; a mailbox that cannot be reached is logged and the others are polled."""
    results = {}
    for mailbox in settings.MAIL_INTAKE_MAILBOXES:
        try:
            results[mailbox.name] = mailbox_poll(mailbox)
        except (imaplib.IMAP4.error, OSError, TemporaryFailure) as exc:
            reason = mask_log_text(re.sub(r"\s+", " ", str(exc)))[:300]  # a refused login names the user
            log.error("mailbox %s cannot be polled: %s: %s", mailbox.name, type(exc).__name__, reason)
            results[mailbox.name] = {"error": 1}
    return results
