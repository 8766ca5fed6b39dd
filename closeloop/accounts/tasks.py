"""Worker tasks of accounts: thin wrappers."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from closeloop.accounts.services import sessions_purge


@db_task()
def password_reset_email_send(*, subject: str, body: str, to: str) -> None:
    EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [to]).send()


@db_periodic_task(crontab(hour="19", minute="41"))  # 03:41 in Asia/Shanghai
def sessions_purge_task() -> None:
    sessions_purge()
