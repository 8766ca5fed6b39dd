"""The portal's service requests: request, follow by number + last 4 digits, wrong digits refused alike."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from closeloop.serviceorders.models import ServiceOrder

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quick_forms(settings: Any) -> None:
    settings.PORTAL_FORM_MIN_SECONDS = 0


def _request(client: Client, **fields: str) -> Any:
    page = client.get("/portal/service/").content.decode()
    token = page.split('name="form_token" value="')[1].split('"')[0] if 'name="form_token"' in page else ""
    data = {"kind": "return", "customer_name": "王芳", "phone": "13812345678", "description": "不想要了", **fields}
    if token:
        data["form_token"] = token
    return client.post("/portal/service/", data)


def test_a_customer_requests_a_return_and_follows_it() -> None:
    client = Client()
    response = _request(client)
    order = ServiceOrder.objects.get()
    assert response.status_code == 302 and order.number in response["Location"]
    assert order.kind == "return" and order.registered_by is None

    stranger = Client()
    wrong = stranger.post("/portal/service/status/", {"number": order.number, "phone_last4": "0000"})
    unknown = stranger.post("/portal/service/status/", {"number": "SF20000101-0001", "phone_last4": "5678"})
    assert wrong.status_code == unknown.status_code == 200
    assert stranger.get(f"/portal/service/status/{order.number}/").status_code == 302
    right = stranger.post("/portal/service/status/", {"number": order.number.lower(), "phone_last4": "5678"})
    assert right.status_code == 302
    page = stranger.get(f"/portal/service/status/{order.number}/").content.decode()
    assert order.number in page and "13812345678" not in page


def test_a_bad_request_keeps_what_was_typed() -> None:
    response = _request(Client(), phone="12", description="灯罩碎了")
    assert response.status_code == 400
    assert "灯罩碎了" in response.content.decode()
    assert not ServiceOrder.objects.exists()
