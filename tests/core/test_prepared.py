"""Statements built once per process (closeloop/core/prepared.py) answer as the querysets they come from,
and the request path's look-ups that use them (session, user, roles, the intake's customer) too."""

from __future__ import annotations

import datetime
from importlib import import_module
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, User
from django.contrib.sessions.models import Session
from django.db import connection
from django.db.models import QuerySet
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from closeloop.complaints import selectors
from closeloop.core.backends import ModelBackendOneQuery
from closeloop.core.prepared import Param, Prepared
from closeloop.core.roles import user_roles
from closeloop.directory.models import Customer

pytestmark = pytest.mark.django_db


def _customers(phone: str) -> QuerySet[Customer]:
    return Customer.objects.filter(phone=phone, anonymised_at__isnull=True).order_by("id")


def test_customer_by_phone_is_the_querysets_first_with_every_field() -> None:
    gone = Customer.objects.create(name="已注销", phone="13900000001", anonymised_at=timezone.now())
    first = Customer.objects.create(name="张伟", phone="13900000001", email="a@example.com", province="浙江省")
    Customer.objects.create(name="张伟二", phone="13900000001")
    Customer.objects.create(name="李娜", phone="13900000002")

    found = selectors.customer_by_phone(phone="13900000001")

    expected = _customers("13900000001").first()
    assert found is not None and expected is not None
    assert found.pk == first.pk != gone.pk
    for field in Customer._meta.concrete_fields:  # the ORM's converters: datetimes come back as datetimes
        assert getattr(found, field.attname) == getattr(expected, field.attname), field.name
    assert isinstance(found.created_at, datetime.datetime) and found.created_at.tzinfo is not None
    assert not found._state.adding and found._state.db == "default"
    assert selectors.customer_by_phone(phone="13900000009") is None
    assert selectors.customer_by_phone(phone="") is None


def test_statement_is_built_once_and_run_with_each_calls_values(django_assert_num_queries: Any) -> None:
    builds = []

    def build() -> QuerySet[Customer]:
        builds.append(1)
        return Customer.objects.filter(phone=Param("phone")).order_by("id")[:1]

    prepared = Prepared(build)
    one = Customer.objects.create(name="甲", phone="13700000001")
    two = Customer.objects.create(name="乙", phone="13700000002")
    with django_assert_num_queries(3):
        assert prepared.first(phone="13700000001") == one
        assert prepared.first(phone="13700000002") == two
        assert prepared.rows(phone="13700000003") == []
    assert len(builds) == 1  # on the first call, for its model and its statement; not per call


def test_instances_are_made_without_a_raw_queryset_unless_the_select_has_more_than_the_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A select of the model's own columns is made into an instance from the compiler's recipe (what
    `Model.objects.raw` worked out again on every call); one with a related model's columns goes through
    `raw`, which reads the model's columns by name."""
    from closeloop.complaints.models import Complaint

    customer = Customer.objects.create(name="甲", phone="13500000001", email="jia@example.com")
    plain = Prepared(lambda: Customer.objects.filter(phone=Param("phone")).order_by("id")[:1])
    joined = Prepared(lambda: Complaint.objects.select_related("customer").filter(pk=Param("pk"))[:1])
    raw_calls: list[str] = []
    real_raw = QuerySet.raw

    def counted_raw(self: QuerySet[Any], raw_query: str, *args: Any, **kwargs: Any) -> Any:
        raw_calls.append(raw_query)
        return real_raw(self, raw_query, *args, **kwargs)

    monkeypatch.setattr(QuerySet, "raw", counted_raw)
    found = plain.first(phone="13500000001")
    assert found == customer and found is not None and found.email == "jia@example.com"
    assert not found._state.adding and found._state.db == "default"
    assert raw_calls == []
    assert joined.first(pk=-1) is None
    assert len(raw_calls) == 1


def test_count_is_the_querysets_count(django_assert_num_queries: Any) -> None:
    prepared = Prepared(lambda: Customer.objects.filter(phone=Param("phone"), anonymised_at__isnull=True))
    for name in ("甲", "乙", "丙"):
        Customer.objects.create(name=name, phone="13600000001")
    Customer.objects.create(name="丁", phone="13600000001", anonymised_at=timezone.now())
    prepared.count(phone="13600000001")  # built
    with django_assert_num_queries(2):
        counted, none = prepared.count(phone="13600000001"), prepared.count(phone="13600000002")
    assert counted == _customers("13600000001").count() == 3
    assert none == 0


def test_a_value_bound_by_the_queryset_is_refused() -> None:
    # The first call's phone number would have been kept in the statement for every later call.
    prepared = Prepared(lambda: Customer.objects.filter(phone="13700000001", name=Param("name")))
    with pytest.raises(ValueError, match="only Param") as refused:
        prepared.first(name="甲")
    assert "13700000001" not in str(refused.value)  # a bound value may be personal data: not in the error


def test_the_values_must_be_the_statements_parameters() -> None:
    prepared = Prepared(lambda: Customer.objects.filter(phone=Param("phone"))[:1])
    with pytest.raises(TypeError, match="phone"):
        prepared.first(mobile="13700000001")
    with pytest.raises(TypeError, match="phone"):
        prepared.first()
    with pytest.raises(ValueError, match="identifier"):
        Param("phone) OR 1=1 --")


def test_roles_and_user_as_the_orm_gives_them() -> None:
    user = User.objects.create_user("prepared-member", password="x")
    Group.objects.create(name="prepared-unrelated")
    user.groups.add(Group.objects.create(name="prepared-a"), Group.objects.create(name="prepared-b"))

    fresh = User.objects.get(pk=user.pk)
    assert user_roles(fresh) == frozenset(fresh.groups.values_list("name", flat=True)) == {"prepared-a", "prepared-b"}
    loaded = ModelBackendOneQuery().get_user(user.pk)
    assert loaded is not None and loaded.pk == user.pk and loaded.username == "prepared-member"
    assert loaded.password == ModelBackend().get_user(user.pk).password  # type: ignore[union-attr]
    user.is_active = False
    user.save()
    assert ModelBackendOneQuery().get_user(user.pk) is None  # as ModelBackend: an inactive user is no one
    assert ModelBackendOneQuery().get_user(10**9) is None


def test_session_engine_reads_live_sessions_and_not_expired_ones() -> None:
    engine = import_module(settings.SESSION_ENGINE)
    store = engine.SessionStore()
    store["seen"] = "是"
    store.create()
    key = store.session_key

    assert engine.SessionStore(session_key=key).load() == {"seen": "是"}

    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    expired = engine.SessionStore(session_key=key)
    assert expired.load() == {}
    assert expired.session_key is None  # as Django's: an expired key is dropped, a new one made on save
    assert engine.SessionStore(session_key="no-such-key").load() == {}


def test_a_logged_in_desk_request_reads_session_user_and_roles_prepared(client: Client) -> None:
    user = User.objects.create_user("prepared-desk", password="x")
    user.groups.add(Group.objects.get_or_create(name="cs_agent")[0])
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/desk/")
    assert response.status_code == 200
    assert response.wsgi_request.user.pk == user.pk
    # A Param is written "(%(name)s)" into the statement: the value in parentheses marks the prepared ones.
    statements = [q["sql"] for q in queries.captured_queries]
    for table, value in (("django_session", client.session.session_key), ("auth_user", user.pk)):
        reads = [sql for sql in statements if sql.startswith("SELECT") and f'FROM "{table}"' in sql]
        assert len(reads) == 1 and f"({_literal(value)})" in reads[0], reads
    roles = [sql for sql in statements if 'FROM "auth_group"' in sql]
    assert len(roles) == 1 and f"({user.pk})" in roles[0], roles


def _literal(value: object) -> str:
    return f"'{value}'" if isinstance(value, str) else str(value)
