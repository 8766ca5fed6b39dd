"""Portal fixtures: a clean throttle cache, no minimum fill-in time unless a test asks for it, and a
helper that fills in the complaint form the way a browser does (token from the rendered page)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse


@pytest.fixture(autouse=True)
def _portal_settings(settings: Any, db: None) -> None:
    settings.PORTAL_FORM_MIN_SECONDS = 0
    settings.LANGUAGE_CODE = "en"
    # Throttle counters: every test has a cache namespace of its own (tests/conftest.py).


def form_token(client: Client) -> str:
    html = client.get(reverse("portal:home")).content.decode()
    match = re.search(r'name="form_token" value="([^"]+)"', html)
    assert match, "the complaint form carries a signed token"
    return match.group(1)


def complaint_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "customer_kind": "end_user",
        "customer_name": "王芳",
        "organisation": "",
        "phone": "138 1234 5678",
        "email": "",
        "province": "广东",
        "city": "佛山",
        "address": "顺德区大良街道 1 号",
        "product_model": "XD-100",
        "batch_no": "B2026-11",
        "purchase_date": "2026-10-01",
        "order_no": "SO-88",
        "type": "quality",
        "description": "灯不亮了",
        "demand": "换新",
        "website": "",
    }
    fields.update(overrides)
    return fields


@pytest.fixture
def submit(client: Client) -> Callable[..., Any]:
    """POST the complaint form with a real token; keyword arguments override the fields."""

    def post(**overrides: Any) -> Any:
        data = complaint_fields(**overrides)
        data.setdefault("form_token", form_token(client))
        data = {k: v for k, v in data.items() if v is not None}
        return client.post(reverse("portal:home"), data)

    return post


@pytest.fixture
def lookup(client: Client) -> Callable[[str, str], Any]:
    def post(number: str, last4: str, **extra: Any) -> Any:
        return client.post(reverse("portal:status"), {"number": number, "phone_last4": last4}, **extra)

    return post
