"""A NUL character (U+0000) anywhere a request carries text is refused with a 422 — JSON for the API,
a page otherwise — before any view or query sees it (PostgreSQL cannot take it: psycopg raises).
Run on SQLite and on PostgreSQL (DATABASE_URL=postgres://…)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from closeloop.complaints.models import Complaint
from closeloop.core.roles import Role
from tests.api.conftest import ApiClient, intake_payload
from tests.desk.test_register import form_data
from tests.portal.conftest import complaint_fields, form_token

pytestmark = pytest.mark.django_db

NUL = "\x00"
# Every query parameter a desk or portal view reads (request.GET and the filter forms), and more.
DESK_PARAMETERS = (
    "q", "email", "phone", "product_model", "status", "page", "tab", "month", "calendar", "due", "line",
    "fill_page", "review_page", "type", "channel", "priority", "product", "department", "owner", "source",
)  # fmt: skip


def _routes(patterns: list[Any], prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and "<" not in route and "(" not in route and "^" not in route:
            yield "/" + route


def desk_and_portal_get_routes() -> list[str]:
    return sorted(
        route
        for route in _routes(get_resolver().url_patterns)
        if not route.startswith(("/api/", "/admin/", "/i18n/", "/logout", "/static/", "/media/"))
    )


@pytest.fixture
def admin_user(make_user: Callable[..., User]) -> User:
    user = make_user(Role.ADMIN)
    user.is_staff = user.is_superuser = True
    user.save()
    return user


@pytest.fixture
def desk(admin_user: User) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(admin_user)
    return client


def test_the_route_list_covers_the_lookups_and_lists() -> None:
    routes = desk_and_portal_get_routes()
    for expected in ("/desk/", "/desk/lookup/products", "/desk/lookup/customers", "/portal/status/"):
        assert expected in routes


@pytest.mark.parametrize("route", desk_and_portal_get_routes())
def test_every_desk_and_portal_page_refuses_a_nul_in_any_parameter(
    desk: Client, make_complaint: Callable[..., Complaint], route: str
) -> None:
    make_complaint()
    clean = desk.get(route, {name: "x" for name in DESK_PARAMETERS})
    assert clean.status_code < 500

    for name in DESK_PARAMETERS:
        response = desk.get(route, {name: f"a{NUL}b"})
        assert response.status_code == 422, (route, name)
        assert "NUL character" in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/desk/lookup/products?q=%00",
        "/desk/lookup/customers?email=%00",
        "/desk/lookup/customers?phone=138%00",
        "/desk/?q=%00",
        "/desk/c/TS2026%00/",
    ],
)
def test_the_reported_lookups(desk: Client, url: str) -> None:
    assert desk.get(url).status_code == 422


def _api_get_operations() -> list[tuple[str, list[str], list[str]]]:
    from closeloop.api import api

    schema = api.get_openapi_schema(path_prefix="/api/v1")
    operations = []
    for path, methods in schema["paths"].items():
        if "get" not in methods:
            continue
        parameters = methods["get"].get("parameters", [])
        operations.append(
            (
                path,
                [p["name"] for p in parameters if p["in"] == "query"],
                [p["name"] for p in parameters if p["in"] == "path"],
            )
        )
    return operations


API_GETS = _api_get_operations()


@pytest.fixture
def admin_api(admin_user: User) -> ApiClient:
    from closeloop.core.services import api_token_create

    return ApiClient(api_token_create(user=admin_user, name="nul")[1])


@pytest.mark.parametrize(("path", "query", "params"), API_GETS, ids=[p for p, _q, _p in API_GETS])
def test_every_api_read_refuses_a_nul_in_each_query_parameter_and_in_the_path(
    admin_api: ApiClient, path: str, query: list[str], params: list[str]
) -> None:
    concrete = re.sub(r"\{[^}]+\}", "1", path)
    for name in query:
        response = admin_api.get(concrete, {name: f"a{NUL}b"})
        assert response.status_code == 422, (path, name, response.content)
        assert response.json()["detail"][0]["loc"] == ["query", name]
        assert response.json()["detail"][0]["type"] == "null_character"
    if params:
        with_nul = re.sub(r"\{[^}]+\}", quote(f"1{NUL}"), path, count=1)
        response = admin_api.get(with_nul)
        assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["path"]


def test_the_api_names_the_body_field_with_the_nul(admin_api: ApiClient) -> None:
    body = intake_payload(description=f"灯罩{NUL}有裂纹")
    body["extra"] = {"list": ["ok", f"bad{NUL}"]}

    response = admin_api.post_json("/api/v1/complaints", body)

    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "description"], ["body", "extra", "list", 1]]
    assert not Complaint.objects.exists()


def test_a_portal_form_with_a_nul_is_refused_with_what_was_typed(client: Client, settings: Any) -> None:
    settings.PORTAL_FORM_MIN_SECONDS = 0
    data = complaint_fields(description=f"灯不亮了{NUL}，请尽快处理", form_token=form_token(client))

    response = client.post("/portal/", data, headers={"Accept-Language": "en"})

    html = response.content.decode()
    assert response.status_code == 422
    assert "灯不亮了，请尽快处理" in html  # kept, without the NUL
    assert NUL not in html
    assert not Complaint.objects.exists()


def test_a_desk_form_with_a_nul_is_refused_with_what_was_typed(desk: Client) -> None:
    response = desk.post("/desk/new/", form_data(description=f"灯罩{NUL}有裂纹"))

    assert response.status_code == 422
    assert "灯罩有裂纹" in response.content.decode()
    assert not Complaint.objects.exists()


def test_files_may_hold_nul_bytes(desk: Client, make_complaint: Callable[..., Complaint]) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.desk.test_register import PNG

    response = desk.post("/desk/new/", {**form_data(), "attachments": SimpleUploadedFile("a.png", PNG, "image/png")})

    assert PNG.count(b"\x00") > 0
    assert response.status_code == 302, response.content.decode()[:2000]
