"""POST /api/v1/imports/complaints and the template download."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from openpyxl import load_workbook

from closeloop.complaints.models import Complaint
from closeloop.directory.models import Product
from closeloop.sla.models import Deadline
from tests.api.conftest import ApiClient
from tests.imports.test_complaints_import import zh_row

URL = "/api/v1/imports/complaints"


@pytest.fixture
def admin_api(make_user: Callable[..., User], api_client_for: Callable[[User], ApiClient]) -> ApiClient:
    return api_client_for(make_user("admin", username="api-admin"))


def rows(count: int) -> list[dict[str, Any]]:
    return [zh_row(联系电话=f"1390000{i:04d}") for i in range(count)]


@pytest.mark.django_db
def test_dry_run_answers_row_errors_and_writes_nothing(admin_api: ApiClient, product: Product) -> None:
    body = rows(2)
    body[1]["状态"] = "处理中"
    response = admin_api.post_json(URL, {"rows": body, "dry_run": True})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["dry_run"] is True and data["numbers"] == []
    assert [(e["row"], e["column"]) for e in data["errors"]] == [(2, "状态")]
    assert Complaint.objects.count() == 0


@pytest.mark.django_db
def test_a_real_run_with_an_error_is_422_and_writes_nothing(admin_api: ApiClient, product: Product) -> None:
    body = rows(3)
    body[2]["接收时间"] = "yesterday"
    response = admin_api.post_json(URL, {"rows": body})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "rows", 2, "接收时间"]
    assert Complaint.objects.count() == 0


@pytest.mark.django_db
def test_import_writes_up_to_100_rows(admin_api: ApiClient, product: Product) -> None:
    response = admin_api.post_json(URL, {"rows": rows(100), "file_name": "2025 年 3 月"})
    assert response.status_code == 201, response.content
    data = response.json()
    assert len(data["numbers"]) == 100 and data["customers_created"] == 100
    assert Complaint.objects.filter(imported_at__isnull=False).count() == 100
    assert Deadline.objects.count() == 0
    event = Complaint.objects.get(number=data["numbers"][0]).events.get()
    assert (event.action, event.via, event.after["file"]) == ("imported", "api", "2025 年 3 月")


@pytest.mark.django_db
def test_more_than_100_rows_are_refused(admin_api: ApiClient, product: Product) -> None:
    response = admin_api.post_json(URL, {"rows": rows(101), "dry_run": True})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:2] == ["body", "rows"]


@pytest.mark.django_db
def test_only_administrators(agent_api: ApiClient, product: Product) -> None:
    assert agent_api.post_json(URL, {"rows": rows(1)}).status_code == 403
    assert agent_api.get(f"{URL}/template.xlsx").status_code == 403
    assert Complaint.objects.count() == 0


@pytest.mark.django_db
def test_template_download(admin_api: ApiClient) -> None:
    response = admin_api.get(f"{URL}/template.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(
        io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)
    )
    assert workbook.worksheets[0]["A1"].value == "投诉编号"
    assert workbook.worksheets[1]["A1"].value == "列名"


@pytest.mark.django_db
def test_the_admin_list_links_the_template(client: Any, make_user: Callable[..., User]) -> None:
    admin = make_user("admin", username="desk-admin")
    admin.is_staff = True
    admin.save()
    client.force_login(admin)
    response = client.get("/admin/imports/importrun/")
    assert response.status_code == 200
    assert f'href="{URL}/template.xlsx"' in response.content.decode()
