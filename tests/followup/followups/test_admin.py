"""Admin: switching the satisfaction scale in use (exactly one active), follow-ups read-only."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from closeloop.followup.models import FollowUp, SatisfactionScale
from closeloop.followup.selectors import active_scale

pytestmark = pytest.mark.django_db


def test_activate_action_switches_the_scale(client: Client, resolved: Callable[..., FollowUp]) -> None:
    admin = User.objects.create_superuser("root", password="x")
    client.force_login(admin)
    three = SatisfactionScale.objects.get(code="three-level")
    assert client.get("/admin/followup/satisfactionscale/").status_code == 200
    response = client.post("/admin/followup/satisfactionscale/", {"action": "activate", "_selected_action": [three.pk]})
    assert response.status_code == 302
    assert active_scale().code == "three-level"
    assert list(SatisfactionScale.objects.filter(is_active=True).values_list("code", flat=True)) == ["three-level"]
    followup = resolved()
    assert client.get(f"/admin/followup/followup/{followup.pk}/change/").status_code == 200
    assert client.get("/admin/followup/followup/add/").status_code == 403
