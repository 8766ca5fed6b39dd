"""Worker tasks: thin wrappers around the e-mail intake."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from closeloop.mailin.imap import mailboxes_poll


@db_periodic_task(crontab(minute="*"))
@lock_task("mail-intake-poll")
def mail_intake_poll() -> None:
    """Every minute: the MAIL_INTAKE_URL mailboxes (nothing when none is set)."""
    mailboxes_poll()
