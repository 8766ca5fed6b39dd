"""A database that is locked, read-only or unreachable: the API answers JSON 503 with Retry-After, the
desk and the portal show the form again with what was typed (503) — never a bare 500, nothing lost.

SQLite is made read-only with `PRAGMA query_only` and locked by a second connection holding
`BEGIN EXCLUSIVE` while ours waits a short busy timeout; PostgreSQL is "unreachable" at a closed port,
in another process (the settings are read at start-up)."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import OperationalError, connection
from django.test import Client, RequestFactory

from closeloop.complaints.models import Complaint
from closeloop.core.outage import Outage, outage_of
from closeloop.core.roles import Role
from tests.api.conftest import ApiClient, intake_payload
from tests.desk.test_register import form_data
from tests.portal.conftest import complaint_fields, form_token

ROOT = Path(__file__).resolve().parents[2]
DESCRIPTION = "灯罩有裂纹，客户很着急（保留原话）"


@pytest.fixture(autouse=True)
def _settings(settings: Any) -> None:
    settings.LANGUAGE_CODE = "en"
    settings.PORTAL_FORM_MIN_SECONDS = 0


def _sqlite_options(**pragmas: str) -> dict[str, Any]:
    init = " ".join(f"PRAGMA {name}={value};" for name, value in pragmas.items())
    return {"transaction_mode": "IMMEDIATE", "timeout": 0.2, "init_command": init}


@pytest.fixture
def sqlite_only() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's own locking and read-only modes")


@pytest.fixture
def read_only(sqlite_only: None, transactional_db: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """From now on every connection is opened read-only (until the test ends and the tables are flushed)."""
    yield_options = _sqlite_options(journal_mode="WAL", busy_timeout="200", query_only="ON")
    original = connection.settings_dict["OPTIONS"]
    connection.close()
    monkeypatch.setitem(connection.settings_dict, "OPTIONS", yield_options)
    yield
    connection.close()
    connection.settings_dict["OPTIONS"] = original


@pytest.fixture
def locked(sqlite_only: None, transactional_db: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Another connection holds the write lock; ours gives up after 200 ms."""
    original = connection.settings_dict["OPTIONS"]
    connection.close()
    monkeypatch.setitem(connection.settings_dict, "OPTIONS", _sqlite_options(journal_mode="WAL", busy_timeout="200"))
    other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    yield
    other.execute("ROLLBACK")
    other.close()
    connection.close()
    connection.settings_dict["OPTIONS"] = original


OUTAGES = [("read_only", Outage.READ_ONLY), ("locked", Outage.LOCKED)]


@pytest.fixture
def agent_ready(transactional_db: None, make_user: Callable[..., User]) -> tuple[ApiClient, Client]:
    """An agent with an API key and a desk session, both used once (so neither has a write pending)."""
    from closeloop.core.services import api_token_create

    agent = make_user(Role.AGENT)
    api = ApiClient(api_token_create(user=agent, name="outage")[1])
    assert api.get("/api/v1/lifecycle").status_code == 200
    desk = Client(headers={"Accept-Language": "en"})
    desk.force_login(agent)
    assert desk.get("/desk/new/").status_code == 200
    return api, desk


@pytest.mark.parametrize(("fixture", "outage"), OUTAGES)
def test_api_intake_answers_json_503_with_retry_after(
    request: pytest.FixtureRequest, agent_ready: tuple[ApiClient, Client], fixture: str, outage: Outage
) -> None:
    api, _desk = agent_ready
    request.getfixturevalue(fixture)

    response = api.post_json("/api/v1/complaints", intake_payload(description=DESCRIPTION))

    assert response.status_code == 503, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == outage.value
    assert "Nothing was saved" in body["detail"]
    assert int(response["Retry-After"]) > 0


@pytest.mark.parametrize(("fixture", "outage"), OUTAGES)
def test_desk_registration_shows_the_form_again_with_what_was_typed(
    request: pytest.FixtureRequest, agent_ready: tuple[ApiClient, Client], fixture: str, outage: Outage
) -> None:
    _api, desk = agent_ready
    request.getfixturevalue(fixture)

    response = desk.post("/desk/new/", form_data(description=DESCRIPTION, customer_name="欧阳娜娜"))

    html = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"]
    assert 'class="register"' in html  # the registration form itself, not a generic page
    assert DESCRIPTION in html and 'value="欧阳娜娜"' in html
    assert "Nothing was saved" in html


@pytest.mark.parametrize(("fixture", "outage"), OUTAGES)
def test_portal_submission_shows_the_form_again_with_what_was_typed(
    request: pytest.FixtureRequest, transactional_db: None, fixture: str, outage: Outage
) -> None:
    client = Client()
    data = complaint_fields(description=DESCRIPTION, customer_name="欧阳娜娜", form_token=form_token(client))
    request.getfixturevalue(fixture)

    response = client.post("/portal/", data)

    html = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"]
    assert 'class="complaint-form"' in html
    assert DESCRIPTION in html and 'value="欧阳娜娜"' in html
    assert 'name="form_token" value="' in html  # a fresh token: the form can be sent again as it is


def test_nothing_was_written_while_locked(agent_ready: tuple[ApiClient, Client], locked: None) -> None:
    api, desk = agent_ready
    api.post_json("/api/v1/complaints", intake_payload(description=DESCRIPTION))
    desk.post("/desk/new/", form_data(description=DESCRIPTION))

    assert not Complaint.objects.exists()


def test_the_portal_lookup_is_refused_rather_than_left_unthrottled(read_only: None) -> None:
    response = Client().post("/portal/status/", {"number": "TS20260101-0001", "phone_last4": "1234"})

    assert response.status_code == 503
    assert 'value="TS20260101-0001"' in response.content.decode()


def test_reading_pages_still_works_while_read_only(agent_ready: tuple[ApiClient, Client], read_only: None) -> None:
    api, desk = agent_ready

    assert desk.get("/desk/").status_code == 200
    assert api.get("/api/v1/complaints").status_code == 200


@pytest.fixture
def unused_token(transactional_db: None, make_user: Callable[..., User]) -> ApiClient:
    """A key never used: its first call wants to record the use (a write)."""
    from closeloop.core.services import api_token_create

    return ApiClient(api_token_create(user=make_user(Role.AGENT), name="first use")[1])


def test_a_read_with_a_token_whose_use_cannot_be_recorded_still_answers(
    unused_token: ApiClient, read_only: None
) -> None:
    assert unused_token.get("/api/v1/complaints").status_code == 200


# --- classification ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "outage"),
    [
        ("database is locked", Outage.LOCKED),
        ("attempt to write a readonly database", Outage.READ_ONLY),
        ("unable to open database file", Outage.UNAVAILABLE),
        (
            'connection failed: connection to server at "127.0.0.1", port 1 failed: Connection refused',
            Outage.UNAVAILABLE,
        ),
        ("cannot execute INSERT in a read-only transaction", Outage.READ_ONLY),
        ("no such table: complaints_complaint", None),
    ],
)
def test_one_place_says_what_an_operational_error_is(message: str, outage: Outage | None) -> None:
    assert outage_of(OperationalError(message)) is outage


def test_an_integrity_error_is_never_an_outage() -> None:
    from django.db import IntegrityError

    assert outage_of(IntegrityError("database is locked")) is None


def test_an_outage_raised_outside_a_view_is_a_503_too() -> None:
    from closeloop.core.views import server_error

    request = RequestFactory().post("/api/v1/complaints", {})
    try:
        raise OperationalError("attempt to write a readonly database")
    except OperationalError:
        response = server_error(request)

    assert response.status_code == 503
    assert json.loads(response.content)["code"] == "database_read_only"


# --- a bug is still a 500, but never a bare one ------------------------------------------------------


@pytest.mark.django_db
def test_a_bug_in_the_api_is_a_json_500(monkeypatch: pytest.MonkeyPatch, agent: User) -> None:
    from closeloop.complaints import api as complaints_api
    from closeloop.core.services import api_token_create

    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(complaints_api.selectors, "complaint_queue", broken)
    client = ApiClient(api_token_create(user=agent, name="bug")[1], raise_request_exception=False)

    response = client.get("/api/v1/complaints")

    assert response.status_code == 500
    assert response.json()["code"] == "server_error"


@pytest.mark.django_db
def test_a_bug_behind_a_form_keeps_what_was_typed(monkeypatch: pytest.MonkeyPatch, agent: User) -> None:
    from closeloop.complaints import views

    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(views.services, "complaint_register", broken)
    desk = Client(raise_request_exception=False, headers={"Accept-Language": "en"})
    desk.force_login(agent)

    response = desk.post("/desk/new/", form_data(description=DESCRIPTION))

    assert response.status_code == 500
    assert DESCRIPTION in response.content.decode()
    assert "Server Error (500)" not in response.content.decode()


# --- PostgreSQL that cannot be reached ----------------------------------------------------------


UNREACHABLE = """
import json, os, sys
import django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
results = {}
api = Client(headers={"Authorization": "Bearer x"})
response = api.post("/api/v1/complaints", data=json.loads(sys.argv[1]), content_type="application/json")
results["api"] = [response.status_code, response.get("Retry-After"), response.content.decode()]
# What the browser receives: an outage met in a middleware (the session read) is answered by handler500.
desk = Client(raise_request_exception=False)
desk.cookies["sessionid"] = "a" * 32  # a signed-in browser: its session must be read from the database
response = desk.post("/desk/new/", json.loads(sys.argv[2]))
results["desk"] = [response.status_code, response.get("Retry-After"), response.content.decode()]
response = Client(raise_request_exception=False).post("/portal/", json.loads(sys.argv[3]))
results["portal"] = [response.status_code, response.get("Retry-After"), response.content.decode()]
print(json.dumps(results))
"""


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_postgresql_is_a_503_everywhere() -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "closeloop.settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{_closed_port()}/closeloop",
        "DB_OUTAGE_WAIT_SECONDS": "1",
        "LANGUAGE_CODE": "en",
    }
    env.pop("REDIS_URL", None)
    args = [
        json.dumps(intake_payload(description=DESCRIPTION)),
        json.dumps(form_data(description=DESCRIPTION)),
        json.dumps(complaint_fields(description=DESCRIPTION, form_token="x")),
    ]
    result = subprocess.run(
        [sys.executable, "-c", UNREACHABLE, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads(result.stdout.strip().splitlines()[-1])

    status, retry_after, body = results["api"]
    assert status == 503 and retry_after
    assert json.loads(body)["code"] == "database_unavailable"
    for surface in ("desk", "portal"):
        status, retry_after, body = results[surface]
        assert status == 503 and retry_after, (surface, status, body[:500])
        assert DESCRIPTION in body  # the fallback page keeps what was typed


@pytest.mark.django_db
def test_a_body_the_api_cannot_parse_is_a_json_400(
    agent_api: ApiClient, make_complaint: Callable[..., Complaint]
) -> None:
    complaint = make_complaint()

    response = agent_api.generic(
        "POST", f"/api/v1/complaints/{complaint.number}/attachments", b"garbage", content_type="multipart/form-data"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
