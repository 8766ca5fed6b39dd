"""Logs without personal data. The whole suite is guarded by `_no_personal_data_in_the_logs`
(tests/conftest.py); these tests drive the paths that would put a phone or an e-mail into a log — intake
on every channel, searches by a whole number, the outbox with the console backends, the access logs of
gunicorn and of Django's development server — and read everything they wrote."""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
import random
import re
import smtplib
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import User
from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client
from django.urls import reverse
from gunicorn.config import Config

from closeloop.cli.management.commands.serve import gunicorn_command
from closeloop.complaints.models import Complaint
from closeloop.complaints.services import complaint_transition
from closeloop.core.accesslog import MaskingGunicornLogger
from closeloop.core.masking import mask_log_text, mask_query_string
from closeloop.notifications.models import Notification, State
from closeloop.notifications.services import outbox_deliver
from tests.api.conftest import ApiClient
from tests.conftest import LogRecorder, personal_data_in
from tests.desk.test_register import form_data
from tests.portal.conftest import complaint_fields, form_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Every record at INFO and above, from every logger, while the test runs (also those that do not
    propagate to the root: gunicorn's and the development server's)."""
    recorder = LogRecorder(logging.INFO)
    loggers = [logging.getLogger(), logging.getLogger("django.server")]
    for logger in loggers:
        logger.addHandler(recorder)
    yield recorder.lines
    for logger in loggers:
        logger.removeHandler(recorder)


def generated_customers(n: int) -> list[tuple[str, str]]:
    rng = random.Random(12)
    return [
        (f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}", f"kunde.{i}.{rng.randrange(10**6)}@example.org")
        for i in range(n)
    ]


def contains_any(text: str, customers: list[tuple[str, str]]) -> list[str]:
    return [value for customer in customers for value in customer if value in text]


def test_intake_search_and_outbox_log_no_phone_or_email(
    log_lines: list[str],
    capsys: pytest.CaptureFixture[str],
    settings: Any,
    agent: User,
    auditor: User,
    desk_client_for: Callable[[User], Client],
    api_client_for: Callable[[User], ApiClient],
    client: Client,
    product: Any,
    tmp_path: Path,
) -> None:
    settings.EMAIL_BACKEND = "closeloop.notifications.backends.ConsoleEmailBackend"
    settings.SMS_BACKEND = "closeloop.notifications.backends.ConsoleSmsBackend"
    settings.PORTAL_FORM_MIN_SECONDS = 0
    customers = generated_customers(3)
    (desk_phone, desk_email), (api_phone, api_email), (portal_phone, portal_email) = customers
    desk = desk_client_for(agent)
    response = desk.post("/desk/new/", form_data(phone=desk_phone, email=desk_email))
    assert response.status_code == 302, response.content.decode()[:2000]
    response = api_client_for(agent).post_json(
        "/api/v1/complaints",
        {
            "customer_name": "李四",
            "phone": api_phone,
            "email": api_email,
            "type": "quality",
            "priority": 2,
            "description": "灯罩裂了",
        },
    )
    assert response.status_code == 201, response.content
    response = client.post(
        reverse("portal:home"),
        complaint_fields(phone=portal_phone, email=portal_email, form_token=form_token(client)),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    complaints = list(Complaint.objects.select_related("customer"))
    assert sorted(c.customer.phone for c in complaints) == sorted(p for p, _ in customers)

    # Searches by the whole number and address, by a role that sees them masked and by one that does not,
    # each request also written to gunicorn's access log as `closeloop serve` configures it.
    access_log = tmp_path / "access.log"
    for phone, email in customers:
        for term in (phone, email):
            for client_, url in (
                (desk_client_for(auditor), f"/desk/?{urlencode({'q': term})}"),
                (api_client_for(auditor), f"/api/v1/complaints?{urlencode({'q': term})}"),
                (desk, f"/desk/lookup/customers?{urlencode({'phone': phone, 'email': email})}"),
            ):
                assert client_.get(url).status_code == 200, url
                gunicorn_access_log(access_log, url, referer=f"http://testserver{url}")

    # The customers are told by SMS and e-mail (important priority), sent by the console backends.
    for complaint in Complaint.objects.filter(priority=3):
        complaint.priority = 2
        complaint.save(update_fields=["priority"])
    for complaint in complaints:
        complaint_transition(complaint=complaint, action="acknowledge", actor=agent, via="desk")
    result = outbox_deliver(now=datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(minutes=1))
    sent = Notification.objects.filter(state=State.SENT, recipient__isnull=True)
    assert {n.method for n in sent} == {"sms", "email"} and result["failed"] == result["retry"] == 0
    assert sent.count() == 6

    printed = capsys.readouterr()
    assert access_log.read_text().count('"GET /') == 3 * 2 * 3
    everything = "\n".join([*log_lines, printed.out, printed.err, access_log.read_text()])
    assert contains_any(everything, customers) == []
    assert personal_data_in(log_lines) == []
    assert "SMS to" in everything and "e-mail to" in everything  # the backends did log


def test_the_console_email_backend_logs_the_body_at_debug_only(settings: Any, caplog: pytest.LogCaptureFixture) -> None:
    from django.core.mail import EmailMessage

    settings.EMAIL_BACKEND = "closeloop.notifications.backends.ConsoleEmailBackend"
    caplog.set_level(logging.DEBUG, logger="closeloop.notifications")
    EmailMessage("您的投诉已受理", "编号 TS20261123-0007", "closeloop@localhost", ["zhang.wei@example.com"]).send()
    info = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert info == ["e-mail to z***@example.com: 您的投诉已受理 (18 characters, 0 attachments)"]
    assert any("编号 TS20261123-0007" in line for line in debug)
    assert "zhang.wei@example.com" not in "\n".join(info + debug)


class RefusingBackend(BaseEmailBackend):
    """What Django's SMTP backend raises when the server refuses a recipient: the address in the error."""

    def send_messages(self, email_messages: Any) -> int:
        raise smtplib.SMTPRecipientsRefused({m.to[0]: (550, b"mailbox unavailable") for m in email_messages})


def test_a_refused_address_is_masked_in_the_outbox_warning(settings: Any, agent: User, log_lines: list[str]) -> None:
    from django.utils import timezone

    from closeloop.notifications.services import Message, notifications_build, notifications_queue

    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    agent.email = "agent.li@example.com"
    agent.save()
    notifications_queue(
        notifications_build(
            message=Message(kind="t", subject="s", body="b", dedup="x"), recipients=[agent], now=timezone.now()
        )
    )
    assert outbox_deliver()["retry"] == 1
    warnings = [line for line in log_lines if "outbox" in line]
    assert len(warnings) == 1 and "SMTPRecipientsRefused" in warnings[0]
    assert "agent.li@example.com" not in warnings[0]
    # The admin's outbox list keeps the whole error: it shows the address next to it anyway.
    assert "agent.li@example.com" in Notification.objects.get(method="email").last_error


@pytest.mark.parametrize(
    ("query", "masked"),
    [
        ("q=13912344405", "q=***********"),
        ("q=139+1234+4405&page=2", "q=***+****+****&page=2"),
        ("q=%2B86%20139-1234-4405", "q=%2B**+***-****-****"),
        ("phone=1391234&email=zhang.wei%40example.com", "phone=*******&email=***@***"),
        ("received_from=2026-11-01&status=registered&page=12", "received_from=2026-11-01&status=registered&page=12"),
        ("q=%E5%90%B8%E9%A1%B6%E7%81%AF", "q=%E5%90%B8%E9%A1%B6%E7%81%AF"),
        ("13912344405", "***********="),
        (
            "next=/desk/%3Fq%3D13912344405%26email%3Da.b%2540example.com",
            "next=%2Fdesk%2F%3Fq%3D***********%26email%3D***@***",
        ),
        ("", ""),
    ],
)
def test_query_strings_are_masked(query: str, masked: str) -> None:
    assert mask_query_string(query) == masked


def test_log_text_keeps_what_is_not_personal() -> None:
    assert mask_log_text("outbox 12 attempt 3 failed: TS20261123-0007 on 2026-11-23") == (
        "outbox 12 attempt 3 failed: TS********-**** on 2026-11-23"
    )
    assert mask_log_text("{'a.b@example.com': (550, b'no')}") == "{'***@***': (550, b'no')}"


class GunicornResponse:
    status, sent, headers = "200 OK", 512, [("Content-Type", "text/html")]


def gunicorn_access_log(log_file: Path, uri: str, *, referer: str = "-", log_format: str = "") -> str:
    """The line gunicorn's access log (with our logger class) writes for a GET of `uri`."""
    cfg = Config()
    cfg.set("accesslog", str(log_file))
    if log_format:
        cfg.set("access_log_format", log_format)
    logger = MaskingGunicornLogger(cfg)
    path, _question, query = uri.partition("?")
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": uri,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.5",
        "HTTP_REFERER": referer,
        "HTTP_USER_AGENT": "Mozilla/5.0",
    }

    class Request:
        headers = [("REFERER", referer), ("USER-AGENT", "Mozilla/5.0")]

    logger.access(GunicornResponse(), Request(), environ, datetime.timedelta(milliseconds=12))
    for handler in logger.access_log.handlers:
        handler.flush()
        handler.close()
    return log_file.read_text()


def test_the_gunicorn_access_log_masks_query_and_referer(tmp_path: Path) -> None:
    line = gunicorn_access_log(
        tmp_path / "access.log",
        "/desk/?q=13912344405&email=zhang.wei%40example.com",
        referer="https://complaints.example.com/desk/?q=13800001111",
        log_format="%(r)s | %(q)s | %(f)s | %({referer}i)s | %({raw_uri}e)s | %(U)s | %(s)s",
    )
    assert line.strip() == (
        "GET /desk/?q=***********&email=***@*** HTTP/1.1 | q=***********&email=***@*** "
        "| https://complaints.example.com/desk/?q=*********** | https://complaints.example.com/desk/?q=*********** "
        "| /desk/?q=***********&email=***@*** | /desk/ | 200"
    )
    default_format = gunicorn_access_log(tmp_path / "default.log", "/api/v1/complaints?q=138%201234%205678")
    assert '"GET /api/v1/complaints?q=***+****+**** HTTP/1.1" 200 512 "-" "Mozilla/5.0"' in default_format


def test_serve_runs_gunicorn_with_the_masking_logger(tmp_path: Path) -> None:
    """The very command `closeloop serve` starts, on a free port: its access log has the request without
    the number searched for."""
    access_log, error_log = tmp_path / "access.log", tmp_path / "error.log"
    command = gunicorn_command(host="127.0.0.1", port=0, workers=1)
    command = [*command, "--access-logfile", str(access_log), "--error-logfile", str(error_log)]
    env = {
        **os.environ,
        "CLOSELOOP_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "closeloop.settings",
    }
    server = subprocess.Popen(command, env=env, cwd=Path(__file__).resolve().parents[2])
    try:
        port = None
        for _ in range(1200):
            match = error_log.exists() and re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", error_log.read_text())
            if match:
                port = int(match.group(1))
                break
            time.sleep(0.05)
        assert port, error_log.read_text() if error_log.exists() else "gunicorn did not start"
        with contextlib.suppress(urllib.error.HTTPError):  # any answer is logged the same way
            urllib.request.urlopen(f"http://127.0.0.1:{port}/desk/?q=13912344405&email=a.b%40example.com", timeout=60)
        for _ in range(600):
            if access_log.exists() and "/login/" in access_log.read_text():
                break
            time.sleep(0.05)
    finally:
        server.terminate()
        server.wait(timeout=10)
    logged = access_log.read_text()
    assert "GET /desk/?q=***********&email=***@***" in logged
    # The login page it was sent to carries the search once more, encoded twice, in `next=`.
    assert "GET /login/?next=%2Fdesk%2F%3Fq%3D***********%26email%3D***@***" in logged
    assert not re.search(r"13912344405|a\.b(@|%40|%2540)example", logged), logged


def test_the_development_server_log_masks_the_query(log_lines: list[str]) -> None:
    """`closeloop runserver` logs each request line on the `django.server` logger at INFO."""
    logging.getLogger("django.server").info('"%s" %s %s', "GET /desk/?q=13912344405 HTTP/1.1", "200", "512")
    assert log_lines[-1].endswith('"GET /desk/?q=*********** HTTP/1.1" 200 512')


def test_a_not_found_path_holding_a_phone_number_is_logged_masked(agent: User, log_lines: list[str]) -> None:
    """Django logs every 404 with its path ("Not Found: …"): an id typed by a client may be a phone number."""
    client = Client()
    client.force_login(agent)
    assert client.get("/api/v1/followups/13912344405").status_code == 404
    assert client.get("/desk/TS20261206-0007/").status_code == 404
    logged = "\n".join(log_lines)
    assert "/api/v1/followups/***********" in logged
    assert "TS20261206-0007" in logged  # a complaint number keeps its date
    assert "13912344405" not in logged


def test_the_guard_finds_personal_data() -> None:
    """The suite-wide guard is not blind: these lines would fail a test."""
    assert personal_data_in(["SMS to 13912344405: x", "to zhang.wei@example.com"]) == [
        "SMS to 13912344405: x",
        "to zhang.wei@example.com",
    ]
    assert personal_data_in(["SMS to 139****4405", "to z***@example.com", "TS20261123-0007", "id 113912344405"]) == []
    # A task's UUID (or a hex id) is not a phone number, even where its digits look like one; a number
    # beside one still is.
    task = "75bf9c7b-a298-4c0e-8841-b18010854700"
    assert personal_data_in([f"huey INFO Executing triage_train_task: {task}", f"id {task.replace('-', '')}"]) == []
    assert personal_data_in([f"task {task} for 13912344405"]) == [f"task {task} for 13912344405"]
