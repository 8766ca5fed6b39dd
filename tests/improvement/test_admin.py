"""The admin lists improvement actions and their events, and changes neither."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from closeloop.improvement.models import ImprovementAction

pytestmark = pytest.mark.django_db


def test_actions_and_events_are_read_only_in_the_admin(
    admin_user: User, make_action: Callable[..., ImprovementAction]
) -> None:
    action = make_action()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(admin_user)
    listing = client.get("/admin/improvement/improvementaction/")
    assert listing.status_code == 200 and action.number in listing.content.decode()
    page = client.get(f"/admin/improvement/improvementaction/{action.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.get("/admin/improvement/actionevent/").status_code == 200
    assert client.get("/admin/improvement/improvementaction/add/").status_code == 403
    event = action.events.get()
    assert client.post(f"/admin/improvement/actionevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert action.events.count() == 1
