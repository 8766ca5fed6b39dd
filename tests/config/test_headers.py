"""Response headers: a Content-Security-Policy without inline script or style on every page,
`Cache-Control: no-store` on everything a view answers (static files excepted), and no template that
the policy would break (inline scripts, event-handler attributes, style attributes)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from closeloop.complaints.models import Complaint
from closeloop.core.roles import Role
from closeloop.core.services import api_token_create

ROOT = Path(__file__).resolve().parents[2]


def policy(response: object) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]  # type: ignore[index]
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.fixture
def desk(make_user: Callable[..., User]) -> Client:
    client = Client()
    client.force_login(make_user(Role.CS_SUPERVISOR))
    return client


def assert_strict_policy(response: object) -> None:
    directives = policy(response)
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["form-action"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["default-src"] == ["'self'"]
    assert not any("unsafe" in value for values in directives.values() for value in values)


@pytest.mark.django_db
def test_desk_pages_carry_the_policy_and_no_store(desk: Client, make_complaint: Callable[..., Complaint]) -> None:
    complaint = make_complaint()
    for url in (
        "/desk/",
        f"/desk/c/{complaint.number}/",
        "/desk/insight/dashboard/",
        "/desk/insight/reports/",
        "/desk/calendar/",
        "/desk/h/feedback/",
    ):
        response = desk.get(url)
        assert response.status_code == 200, url
        assert_strict_policy(response)
        assert "no-store" in response["Cache-Control"], url
    # htmx partials too
    partial = desk.get("/desk/?q=x", headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "no-store" in partial["Cache-Control"]


@pytest.mark.django_db
def test_login_portal_and_admin_pages(client: Client, make_user: Callable[..., User]) -> None:
    for url in ("/login/", "/portal/", "/portal/status/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict_policy(response)
        assert "no-store" in response["Cache-Control"], url
    admin = make_user(Role.ADMIN)
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    for url in ("/admin/", "/admin/notifications/messagetemplate/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict_policy(response)
        assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_api_answers_are_not_stored(agent: User, make_complaint: Callable[..., Complaint]) -> None:
    make_complaint()
    _token, key = api_token_create(user=agent, name="headers")
    api = Client(headers={"Authorization": f"Bearer {key}"})
    response = api.get("/api/v1/complaints")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    refused = Client().get("/api/v1/complaints")
    assert refused.status_code == 401 and "no-store" in refused["Cache-Control"]


@pytest.mark.django_db
def test_api_docs_page_allows_swagger_ui_and_no_inline_script(client: Client) -> None:
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    directives = policy(response)
    assert directives["script-src"] == ["'self'"] and directives["frame-ancestors"] == ["'none'"]
    html = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", html)


def test_static_files_keep_their_caching(client: Client) -> None:
    response = client.get("/static/closeloop/desk.js")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


# --- templates the policy would break -------------------------------------------------------------------
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"""<[^>]*\sstyle\s*=\s*["']""", re.I)
STYLE_ELEMENT = re.compile(r"<style\b", re.I)
JAVASCRIPT_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.I)


def templates() -> list[Path]:
    return sorted((ROOT / "closeloop").rglob("templates/**/*.html"))


def test_templates_have_no_inline_script_handler_or_style() -> None:
    assert len(templates()) > 50
    found = [
        f"{path.relative_to(ROOT)}: {pattern.pattern}"
        for path in templates()
        for pattern in (INLINE_SCRIPT, EVENT_HANDLER, STYLE_ATTRIBUTE, STYLE_ELEMENT, JAVASCRIPT_URL)
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_python_made_html_has_no_style_attribute() -> None:
    """format_html in admin classes and template tags: the same rule as templates."""
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "closeloop").rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"<[a-z][^>]*\s(style|on[a-z]+)=", line)
    ]
    assert found == []


def test_dashboard_charts_use_presentation_attributes_not_style() -> None:
    from closeloop.insight import charts

    svg = "".join(
        charts.to_svg(drawing, title="t")
        for drawing in (
            charts.bar_chart(["a", "b"], [1, 2], title="t"),
            charts.bar_chart(["a", "b"], [1, 2], title="t", horizontal=True),
            charts.line_chart(["a", "b", "c"], {"x": [1, 2, 3], "y": [3, 1, 2]}, title="t"),
            charts.pie_chart(["a", "b"], [1, 2], title="t"),
            charts.pareto_chart(["a", "b", "c"], [5, 2, 1], title="t"),
        )
    )
    assert "style=" not in svg and "<style" not in svg
    assert 'fill="rgb(18%,43%,62%)"' in svg and 'font-family="system-ui' in svg
