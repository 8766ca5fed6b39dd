"""`closeloop mail ingest [FILE ...]`: the MTA's pipe into CloseLoop (Postfix/Exim deliver each message
to it on standard input), or files of raw messages. `closeloop mail poll`: one IMAP round now.

Exit 0 when every message was taken or deliberately ignored; 75 (EX_TEMPFAIL: the MTA keeps the message
and tries again) when one must be delivered again; 64 (EX_USAGE) for a wrong option.
"""

from __future__ import annotations

import logging
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from closeloop.core.masking import mask_log_text
from closeloop.mailin.conf import PRIORITIES, Mailbox
from closeloop.mailin.services import PIPE, TemporaryFailure, mail_ingest

log = logging.getLogger(__name__)

EX_OK, EX_USAGE, EX_TEMPFAIL = 0, 64, 75


class Command(BaseCommand):
    help = "E-mail intake: ingest raw messages (files or standard input) or poll the IMAP mailboxes once."
    # The MTA starts this once per mail: the system checks (`closeloop check`, run at deployment) would
    # cost more than taking the mail.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        ingest = sub.add_parser("ingest", help="Take raw RFC 5322 messages from files, or one from standard input.")
        ingest.add_argument("files", nargs="*", help="message files (.eml); none: read standard input")
        ingest.add_argument("--mailbox", default="", help="use the defaults of this MAIL_INTAKE_URL mailbox (its name)")
        ingest.add_argument("--type", default="", help="complaint type code (default MAIL_DEFAULT_TYPE)")
        ingest.add_argument("--priority", default="", choices=["", "urgent", "important", "normal"])
        ingest.add_argument("--department", default="", help="responsible department code")
        sub.add_parser("poll", help="Poll every MAIL_INTAKE_URL mailbox once (the worker does this every minute).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "poll":
            from closeloop.mailin.imap import mailboxes_poll

            for name, counts in mailboxes_poll().items():
                self.stdout.write(f"{name}: {counts}")
            return
        mailbox = self._mailbox(options)
        sources = options["files"] or ["-"]
        status = EX_OK
        for source in sources:
            raw = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
            try:
                result = mail_ingest(raw=raw, mailbox=mailbox)
            except Exception as exc:
                # The message stays with the MTA (or the file where it is) and is delivered again: a mail
                # is never bounced back to the customer for our failure (a bug included: fixed, then taken).
                expected = isinstance(exc, TemporaryFailure | DatabaseError | OSError)
                log.log(
                    logging.ERROR if expected else logging.CRITICAL,
                    "mail not taken, to be retried: %s: %s",
                    type(exc).__name__,
                    mask_log_text(str(exc))[:500],
                )
                status = EX_TEMPFAIL
                continue
            number = result.complaint.number if result.complaint else "-"
            state = "duplicate" if result.duplicate else result.outcome
            self.stdout.write(f"{source}: {state} {number}")
        if status != EX_OK:
            sys.exit(status)

    def _mailbox(self, options: dict[str, Any]) -> Mailbox:
        base = Mailbox(name=PIPE, type_code=settings.MAIL_DEFAULT_TYPE)
        if options["mailbox"]:
            found = [box for box in settings.MAIL_INTAKE_MAILBOXES if box.name == options["mailbox"]]
            if not found:
                raise CommandError(f"no mailbox named {options['mailbox']!r} in MAIL_INTAKE_URL", returncode=EX_USAGE)
            base = found[0]
        return Mailbox(
            name=base.name,
            type_code=options["type"] or base.type_code,
            priority=PRIORITIES[options["priority"]] if options["priority"] else base.priority,
            department_code=options["department"] or base.department_code,
        )
