"""The admin lists what came into the mailboxes."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from closeloop.mailin.conf import Mailbox
from closeloop.mailin.services import mail_ingest
from tests.mailin.samples import mail

pytestmark = pytest.mark.django_db


def test_received_mails_are_listed_read_only(admin_user: Any) -> None:
    mail_ingest(raw=mail(headers={"Auto-Submitted": "auto-replied"}), mailbox=Mailbox(name="main", type_code="other"))
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(admin_user)
    page = client.get("/admin/mailin/inboundmail/")
    assert page.status_code == 200 and "Auto-Submitted: auto-replied" in page.content.decode()
    assert client.get("/admin/mailin/inboundmail/add/").status_code == 403
