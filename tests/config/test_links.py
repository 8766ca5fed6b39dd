"""Links in messages that leave CloseLoop start with SITE_URL: the survey link a customer receives by
SMS, the early-warning alert quality receives by e-mail, report and improvement-action notices."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from closeloop.complaints.models import Complaint
from closeloop.complaints.services import complaint_transition
from closeloop.core.roles import Role
from closeloop.defects.models import DefectAlert
from closeloop.defects.services.claims import spike_checks_claim
from closeloop.defects.tasks import spike_claim_task
from closeloop.directory.models import Product
from closeloop.followup.models import FollowUp
from closeloop.followup.services.survey import survey_link_create
from closeloop.notifications.models import Notification

pytestmark = pytest.mark.django_db
SITE = "https://complaints.example.com"


@pytest.fixture(autouse=True)
def _site_url(settings: Any) -> None:
    settings.SITE_URL = SITE


def test_survey_link_sent_to_the_customer_starts_with_site_url(
    agent: User, make_complaint: Callable[..., Complaint]
) -> None:
    complaint = make_complaint()
    complaint_transition(
        complaint=complaint,
        action="resolve",
        actor=agent,
        via="desk",
        data={"resolution": "已更换"},
        now=timezone.now(),
    )
    followup = FollowUp.objects.get(complaint=complaint)
    token = survey_link_create(followup=followup, method="sms", actor=agent)
    body = Notification.objects.get(kind="survey").body
    assert f"{SITE}/portal/survey/{token}/" in body
    assert "127.0.0.1" not in body


@pytest.fixture
def huey_immediate() -> Iterator[None]:
    previous = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = previous


def test_early_warning_alert_link_starts_with_site_url(
    make_user: Callable[..., User],
    make_complaint: Callable[..., Complaint],
    product: Product,
    huey_immediate: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    make_user(Role.QUALITY)
    spike_checks_claim()  # the worker's cursor, before the complaints
    for days_ago in (2, 1, 0):
        with django_capture_on_commit_callbacks(execute=True):
            make_complaint(
                product_model=product.model,
                batch_no="B2611",
                received_at=timezone.now() - datetime.timedelta(days=days_ago, minutes=1),
            )
    # The worker claims the spike checks once a minute (defects/services/claims.py), once settled:
    Complaint.objects.update(registered_at=timezone.now() - datetime.timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        spike_claim_task.call_local()
    alert = DefectAlert.objects.get()
    body = Notification.objects.get(kind="defect_alert").body
    assert re.search(rf"{re.escape(SITE)}/desk/defects/alerts/{alert.pk}/(\s|$)", body)


def test_staff_notice_links_start_with_site_url() -> None:
    from types import SimpleNamespace

    from closeloop.core.links import absolute_url
    from closeloop.improvement.services import action_url

    assert action_url(SimpleNamespace(pk=7)) == f"{SITE}/desk/improvement/7/"  # type: ignore[arg-type]
    assert absolute_url("/desk/insight/reports/3/") == f"{SITE}/desk/insight/reports/3/"
