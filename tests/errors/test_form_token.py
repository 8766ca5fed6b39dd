"""The portal form's token is single-use: a replay is refused, in this process and in any other (the
used tokens live in the shared cache until they would expire)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse

from closeloop.complaints.models import Complaint
from closeloop.portal.spam_guard import Verdict, form_token_issue, submission_check
from tests.portal.conftest import complaint_fields, form_token

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _portal(settings: Any) -> None:
    settings.PORTAL_FORM_MIN_SECONDS = 0
    settings.LANGUAGE_CODE = "en"


@pytest.mark.django_db
def test_a_token_passes_once() -> None:
    token = form_token_issue(now=time.time() - 10)

    assert submission_check({"form_token": token}) is Verdict.OK
    assert submission_check({"form_token": token}) is Verdict.REPLAYED


@pytest.mark.django_db
def test_two_forms_rendered_in_the_same_millisecond_have_two_tokens() -> None:
    now = time.time() - 10

    first, second = form_token_issue(now=now), form_token_issue(now=now)

    assert first != second
    assert submission_check({"form_token": first}) is Verdict.OK
    assert submission_check({"form_token": second}) is Verdict.OK


@pytest.mark.django_db
def test_a_replayed_form_registers_nothing_more() -> None:
    client = Client()
    data = complaint_fields(form_token=form_token(client))

    first = client.post(reverse("portal:home"), data)
    replay = Client().post(reverse("portal:home"), data)  # another browser, the same harvested token

    assert first.status_code == 302
    assert replay.status_code == 400
    assert "already been sent" in replay.content.decode()
    assert "灯不亮了" in replay.content.decode()  # what was typed is kept
    assert Complaint.objects.count() == 1


@pytest.mark.django_db
def test_the_same_browser_sending_twice_sees_its_receipt() -> None:
    client = Client()
    data = complaint_fields(form_token=form_token(client))

    first = client.post(reverse("portal:home"), data)
    again = client.post(reverse("portal:home"), data)  # a double click, or the back button

    assert again.status_code == 302
    assert again["Location"] == first["Location"]
    assert Complaint.objects.count() == 1


REPLAY_ELSEWHERE = """
import json, os, sys
import django
django.setup()
from django.core.cache import cache
from closeloop.portal.spam_guard import submission_check
cache.key_prefix = os.environ["CACHE_PREFIX"]
print(json.dumps(submission_check({"form_token": sys.argv[1]}).value))
"""


def _database_url() -> str:
    """The test database, for another process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_a_token_used_here_is_refused_by_another_process() -> None:
    token = form_token_issue(now=time.time() - 10)
    assert submission_check({"form_token": token}) is Verdict.OK  # committed: a transactional test

    # The same cache as this process: the database's table, or Redis when REDIS_URL is set.
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "closeloop.settings",
        "DATABASE_URL": _database_url(),
        "CACHE_PREFIX": cache.key_prefix,
    }
    result = subprocess.run(
        [sys.executable, "-c", REPLAY_ELSEWHERE, token], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == "replayed"
