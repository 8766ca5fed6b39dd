"""Repeat detection sees both records (issue 16): a complaint's intake sees the customer's recent service
orders on the same product, a service order's registration the customer's open complaints; and the
technical-support answer's knowledge-base article as a link."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import constants
from django.http import HttpResponse
from django.test import Client

from closeloop.complaints.models import Complaint, Event
from closeloop.complaints.repeats import related_records
from closeloop.directory.models import Product, ProductLine
from closeloop.knowledge.models import Article
from closeloop.serviceorders.lifecycle import Kind
from closeloop.serviceorders.models import ServiceEvent, ServiceOrder
from closeloop.serviceorders.services import order_transition
from tests.api.conftest import ApiClient
from tests.desk.test_register import form_data

from .conftest import NOW

pytestmark = pytest.mark.django_db
PHONE = "13812345678"  # form_data's phone, without its spaces


def warned_numbers(response: HttpResponse) -> list[str]:
    """The record numbers the page's warnings name (in whatever language the page is in)."""
    texts = [str(m) for m in response.context["messages"] if m.level == constants.WARNING]
    return [number for text in texts for number in re.findall(r"(?:SF|TS)\d{8}-\d{4}", text)]


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def other_product(product: Product) -> Product:
    return Product.objects.create(model="XD-200", line=product.line, name="LED面板灯", name_en="LED panel")


# --- a complaint sees the service orders -------------------------------------------------------------


def test_complaint_intake_sees_the_customers_recent_service_orders_on_the_product(
    register: Callable[..., ServiceOrder],
    make_complaint: Callable[..., Complaint],
    product: Product,
    other_product: Product,
    agent: User,
    agent_api: ApiClient,
) -> None:
    # Given an open repair of the customer's XD-100, one of another model, another customer's, a cancelled one
    repair = register(kind=Kind.REPAIR, product_model=product.model, phone=PHONE)
    register(kind=Kind.REPAIR, product_model=other_product.model, phone=PHONE)
    register(kind=Kind.REPAIR, product_model=product.model, phone="13700000001")
    cancelled = register(kind=Kind.INSTALLATION, product_model=product.model, phone=PHONE)
    order_transition(order=cancelled, action="cancel", actor=agent, via="desk", data={"reason": "x"}, now=NOW)

    # When the customer complains about the XD-100
    complaint = make_complaint(product_model=product.model, phone=PHONE)

    # Then its timeline says which service order it saw, and the API shows it
    event = Event.objects.get(complaint=complaint, action="related_found")
    assert event.after == {"records": [{"type": "service_order", "number": repair.number}]}
    assert repair.number in event.note
    body = agent_api.get(f"/api/v1/complaints/{complaint.number}").json()
    assert [(r["record_type"], r["number"]) for r in body["related_records"]] == [("service_order", repair.number)]


def test_a_service_order_long_closed_or_out_of_reach_is_not_seen(
    register: Callable[..., ServiceOrder], make_complaint: Callable[..., Complaint], product: Product, agent: User
) -> None:
    old = register(kind=Kind.CONSULTATION, product_model=product.model, phone=PHONE,
                   now=NOW - datetime.timedelta(days=200))  # fmt: skip
    order_transition(order=old, action="answer", actor=agent, via="desk", data={"resolution": "x"},
                     now=NOW - datetime.timedelta(days=200))  # fmt: skip

    complaint = make_complaint(product_model=product.model, phone=PHONE)

    assert not Event.objects.filter(complaint=complaint, action="related_found").exists()
    assert related_records(complaint=complaint) == []


def test_desk_complaint_registration_warns_and_the_page_links_the_service_order(
    register: Callable[..., ServiceOrder], product: Product, agent: User
) -> None:
    order = register(kind=Kind.REPAIR, product_model=product.model, phone=PHONE, customer_name="李娜")
    client = logged_in(agent)

    response = client.post("/desk/new/", form_data(product_model=product.model), follow=True)

    complaint = Complaint.objects.get()
    assert response.redirect_chain[-1][0] == f"/desk/c/{complaint.number}/"
    assert warned_numbers(response) == [order.number]
    assert f'href="/desk/service/{order.number}"' in response.content.decode()  # the service-order panel's link


# --- a service order sees the open complaints --------------------------------------------------------


def test_service_order_registration_sees_the_customers_open_complaints_on_the_product(
    register: Callable[..., ServiceOrder],
    make_complaint: Callable[..., Complaint],
    product: Product,
    other_product: Product,
    agent_api: ApiClient,
) -> None:
    open_one = make_complaint(product_model=product.model, phone=PHONE)
    make_complaint(product_model=other_product.model, phone=PHONE)
    closed = make_complaint(product_model=product.model, phone=PHONE)
    Complaint.objects.filter(pk=closed.pk).update(status="closed")

    order = register(kind=Kind.REPAIR, product_model=product.model, phone=PHONE)

    registered = ServiceEvent.objects.get(order=order, action="registered")
    assert registered.after["open_complaints"] == [open_one.number]
    body = agent_api.get(f"/api/v1/service-orders/{order.number}").json()
    assert body["open_complaints"] == [open_one.number]
    created = agent_api.post_json(
        "/api/v1/service-orders",
        {"kind": "support", "customer_name": "张伟", "phone": PHONE, "description": "遥控失灵",
         "product_model": product.model},
    )  # fmt: skip
    assert created.status_code == 201, created.content
    assert created.json()["open_complaints"] == [open_one.number]


def test_desk_service_order_registration_warns_of_the_open_complaint(
    make_complaint: Callable[..., Complaint], product: Product, agent: User
) -> None:
    complaint = make_complaint(product_model=product.model, phone=PHONE)
    client = logged_in(agent)

    response = client.post(
        "/desk/service/register",
        {"phone": PHONE, "customer_name": "张伟", "customer_kind": "end_user", "kind": "repair",
         "channel": "hotline", "priority": "3", "description": "还是不亮", "product_model": product.model},
        follow=True,
    )  # fmt: skip

    assert warned_numbers(response) == [complaint.number]
    assert f'href="/desk/c/{complaint.number}/"' in response.content.decode()  # the order page's link


def test_a_new_customer_or_no_product_sees_nothing(
    register: Callable[..., ServiceOrder], make_complaint: Callable[..., Complaint], product: Product
) -> None:
    make_complaint(product_model=product.model, phone=PHONE)
    no_product = register(kind=Kind.REPAIR, phone=PHONE)
    stranger = register(kind=Kind.REPAIR, product_model=product.model, phone="13700000002")
    for order in (no_product, stranger):
        assert ServiceEvent.objects.get(order=order, action="registered").after["open_complaints"] == []


# --- the support answer's article --------------------------------------------------------------------


@pytest.fixture
def article(product: Product) -> Article:
    return Article.objects.create(
        product_line=ProductLine.objects.get(pk=product.line_id),
        title="遥控器重新配对",
        symptoms="遥控器失灵",
        steps=["断电10秒", "长按配对键"],
        search_text="遥控器重新配对遥控器失灵",
    )


def test_desk_answer_chooses_the_article_by_search_and_shows_its_title(
    register: Callable[..., ServiceOrder], article: Article, agent: User, product: Product
) -> None:
    order = register(kind=Kind.CONSULTATION, product_model=product.model)
    client = logged_in(agent)
    page = client.get(f"/desk/service/{order.number}").content.decode()
    assert 'name="article_q"' in page and "/desk/service/articles" in page

    found = client.get("/desk/service/articles", {"article_q": "配对", "line": "ceiling"}, HTTP_HX_REQUEST="true")
    assert f'name="article" value="{article.pk}"' in found.content.decode()
    assert "遥控器重新配对" in found.content.decode()
    none = client.get("/desk/service/articles", {"article_q": "不存在的词"}).content.decode()
    assert 'name="article"' not in none

    done = client.post(
        f"/desk/service/{order.number}/act",
        {"action": "answer", "resolution": "已指导", "article": str(article.pk), "article_note": "第2步要按5秒"},
    )
    assert done.status_code == 302
    order.refresh_from_db()
    assert order.article == article and order.article_note == "第2步要按5秒"
    page = client.get(f"/desk/service/{order.number}").content.decode()
    assert f'href="/desk/kb/{article.pk}/"' in page
    assert page.count("遥控器重新配对") >= 2  # the order's facts and its timeline
    answered = ServiceEvent.objects.get(order=order, action="answer")
    assert answered.after["article"] == article.pk and answered.after["article_title"] == "遥控器重新配对"


def test_api_answer_names_the_article_by_id(
    register: Callable[..., ServiceOrder], article: Article, agent_api: ApiClient
) -> None:
    order = register(kind=Kind.CONSULTATION)
    url = f"/api/v1/service-orders/{order.number}/transition"

    unknown = agent_api.post_json(url, {"action": "answer", "resolution": "x", "article": article.pk + 999})
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"][-1] == "article"

    body = agent_api.post_json(url, {"action": "answer", "resolution": "已指导", "article": article.pk}).json()
    assert body["article"] == {"id": article.pk, "title": "遥控器重新配对"}
    assert body["article_note"] == ""
