"""The service-order queue page: rows written in Python (serviceorders/queue_rows.py) show what the
template showed, escaped, in the reader's language, at a fixed number of statements (issue 20)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import translation
from django.utils.timezone import localtime

from closeloop.serviceorders.lifecycle import Kind, ServiceStatus
from closeloop.serviceorders.models import ServiceOrder

pytestmark = pytest.mark.django_db


def _client(user: User, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(user)
    return client


def _numbers(body: str) -> list[str]:
    return re.findall(r'<a href="/desk/service/([^"/]+)">', body)


def test_rows_escape_what_customers_typed(register: Callable[..., ServiceOrder], agent: User) -> None:
    register(customer_name="<script>alert(1)</script>", product_model='"><img src=x onerror=alert(2)>')
    body = _client(agent).get("/desk/service/").content.decode()
    assert "<script>alert(1)" not in body and "<img src=x" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in body


def test_rows_show_each_column_in_the_readers_language(register: Callable[..., ServiceOrder], agent: User) -> None:
    order = register(customer_name="李雷")
    order.refresh_from_db()
    for language in ("en", "zh-hans"):
        body = _client(agent, language).get("/desk/service/").content.decode()
        with translation.override(language):
            kind, status = str(Kind(order.kind).label), str(ServiceStatus(order.status).label)
            department = order.department.label if order.department else "—"
        received = f"{localtime(order.received_at):%Y-%m-%d %H:%M}"  # the desk's zone, Asia/Shanghai
        assert f'<a href="/desk/service/{order.number}">{order.number}</a></td><td>{kind}</td>' in body
        assert f"<td>{status}</td><td>李雷</td>" in body
        assert f"<td>{department}</td><td>{received}</td>" in body


def test_filters_and_the_empty_row(register: Callable[..., ServiceOrder], agent: User) -> None:
    repair = register(kind="repair")
    install = register(kind="installation")
    client = _client(agent)
    assert _numbers(client.get("/desk/service/?kind=installation").content.decode()) == [install.number]
    assert repair.number in _numbers(client.get("/desk/service/?kind=repair&open=1").content.decode())
    body = client.get("/desk/service/?status=closed").content.decode()
    assert _numbers(body) == [] and "No service orders." in body


def test_the_queue_costs_the_same_statements_for_one_order_as_for_a_page(
    register: Callable[..., ServiceOrder], agent: User, django_assert_max_num_queries: Any
) -> None:
    """The session and user (4), the count and the page (2), the unread count (1): no query per row."""
    client = _client(agent)
    register()
    client.get("/desk/service/")
    with django_assert_max_num_queries(7) as one:
        client.get("/desk/service/")
    for _ in range(12):
        register(product_model="XD-100")
    with django_assert_max_num_queries(7) as many:
        body = client.get("/desk/service/").content.decode()
    assert len(_numbers(body)) == 13
    assert len(one.captured_queries) == len(many.captured_queries)
