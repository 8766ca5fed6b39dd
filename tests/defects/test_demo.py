"""`demo_defects()`: a realistic spike registered through intake raises one alert, once."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from closeloop.defects.demo import DEMO_MODEL, demo_defects
from closeloop.defects.models import AlertStatus, DefectAlert
from closeloop.demo.generator import catalogue_ensure
from closeloop.notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_demo_spike_raises_one_alert_idempotently(agent: User, quality: User) -> None:
    catalogue_ensure()
    assert demo_defects() == 1
    alert = DefectAlert.objects.get()
    assert alert.status == AlertStatus.OPEN and alert.product.model == DEMO_MODEL and alert.batch_no
    assert alert.complaints.count() == 3
    assert Notification.objects.filter(kind="defect_alert", recipient=quality).exists()

    assert demo_defects() == 0
    assert DefectAlert.objects.count() == 1 and alert.complaints.count() == 3


def test_demo_needs_its_users(db: None) -> None:
    assert demo_defects() == 0
    assert not DefectAlert.objects.exists()
