"""The roster page: everybody with a role reads it, managers edit their departments' lines only."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import translation

from closeloop.directory.models import Absence, Department, RosterChange, RosterEntry

pytestmark = pytest.mark.django_db


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_manager_adds_and_ends_a_line_and_the_log_shows_it(people: dict[str, User], tech_dept: Department) -> None:
    manager = client_for(people["tech_manager"])
    response = manager.post(
        "/desk/h/roster/add/",
        {
            "department": tech_dept.pk,
            "handler": people["tech_handler"].pk,
            "valid_from": "2026-01-01",
            "province": "广东",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = RosterEntry.objects.get()
    assert manager.post(f"/desk/h/roster/{entry.pk}/end/", {"on": "2026-12-31"}).status_code == 302
    assert [c.action for c in RosterChange.objects.all()] == ["created", "ended"]
    html = client_for(people["auditor"]).get("/desk/h/roster/").content.decode()
    assert "广东" in html and "line ended" in html
    assert "/desk/h/roster/add/" not in html  # the auditor reads only


def test_manager_cannot_edit_another_department(people: dict[str, User], tech_dept: Department) -> None:
    response = client_for(people["quality_manager"]).post(
        "/desk/h/roster/add/", {"department": tech_dept.pk, "valid_from": "2026-01-01"}
    )
    assert response.status_code == 422
    assert not RosterEntry.objects.exists()


def test_absence_with_a_bad_cover_keeps_the_form(
    people: dict[str, User], make_user: Callable[..., User], tech_dept: Department
) -> None:
    manager = client_for(people["tech_manager"])
    response = manager.post(
        "/desk/h/roster/absences/add/",
        {"user": people["tech_handler"].pk, "starts": "2026-11-24", "ends": "2026-11-23", "note": "年假"},
    )
    assert response.status_code == 422
    assert "年假" in response.content.decode()
    assert not Absence.objects.exists()
    ok = manager.post(
        "/desk/h/roster/absences/add/",
        {"user": people["tech_handler"].pk, "starts": "2026-11-23", "ends": "2026-11-24"},
    )
    assert ok.status_code == 302 and Absence.objects.count() == 1


def test_people_without_a_role_may_not_read_the_roster(make_user: Callable[..., User]) -> None:
    from django.contrib.auth.models import User as DjangoUser

    nobody = DjangoUser.objects.create_user("nobody", password="x")
    assert client_for(nobody).get("/desk/h/roster/").status_code == 403


def test_manager_changes_a_line_on_the_page(people: dict[str, User], tech_dept: Department) -> None:
    from closeloop.handling.services.roster import roster_entry_create

    entry = roster_entry_create(
        department=tech_dept, valid_from=datetime.date(2026, 1, 1), actor=people["tech_manager"]
    )
    manager = client_for(people["tech_manager"])
    response = manager.post(
        f"/desk/h/roster/{entry.pk}/edit/", {"handler": people["tech_handler"].pk, "province": "浙江"}
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.handler == people["tech_handler"] and entry.province == "浙江"
    assert [c.action for c in RosterChange.objects.filter(entry=entry)] == ["created", "updated"]
    refused = client_for(people["quality_manager"]).post(f"/desk/h/roster/{entry.pk}/edit/", {"province": "x"})
    assert refused.status_code == 422
    entry.refresh_from_db()
    assert entry.province == "浙江"


def test_roster_page_costs_a_fixed_number_of_queries(
    people: dict[str, User], tech_dept: Department, count_queries: Callable[[], Any]
) -> None:
    from closeloop.handling.services.roster import roster_entry_create

    manager = client_for(people["tech_manager"])

    def load() -> int:
        with count_queries() as counter:
            assert manager.get("/desk/h/roster/").status_code == 200
        return counter.count

    for _ in range(3):
        roster_entry_create(department=tech_dept, valid_from=datetime.date(2026, 1, 1), actor=people["tech_manager"])
    few = load()
    for _ in range(27):
        roster_entry_create(department=tech_dept, valid_from=datetime.date(2026, 1, 1), actor=people["tech_manager"])
    assert load() == few


def test_the_change_log_reads_in_labels_not_codes(people: dict[str, User], tech_dept: Department) -> None:
    manager = client_for(people["tech_manager"])
    response = manager.post(
        "/desk/h/roster/add/",
        {"department": tech_dept.pk, "handler": people["tech_handler"].pk, "valid_from": "2026-01-01"},
    )
    assert response.status_code == 302
    reader = client_for(people["auditor"])
    html = reader.get("/desk/h/roster/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert f"部门: {tech_dept.name}" in html or f"部门：{tech_dept.name}" in html
    assert f"department={tech_dept.code}" not in html
    english = reader.get("/desk/h/roster/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"department: {tech_dept.name_en or tech_dept.name}" in english
    assert "valid from: 2026-01-01" in english


def test_types_lines_and_handlers_in_the_log_read_in_the_readers_language(
    people: dict[str, User], tech_dept: Department
) -> None:
    from closeloop.directory.models import ComplaintType, ProductLine
    from closeloop.handling.services.roster import roster_entry_create, roster_entry_update

    people["tech_handler"].first_name, people["tech_handler"].last_name = "伟", "王"
    people["tech_handler"].save()
    kind = ComplaintType.objects.get(code="quality")
    line, _created = ProductLine.objects.get_or_create(
        code="ceiling", defaults={"name": "吸顶灯", "name_en": "Ceiling lights"}
    )
    entry = roster_entry_create(
        department=tech_dept,
        complaint_type=kind,
        product_line=line,
        valid_from=datetime.date(2026, 1, 1),
        actor=people["tech_manager"],
    )
    roster_entry_update(entry=entry, values={"handler": people["tech_handler"]}, actor=people["tech_manager"])
    reader = client_for(people["auditor"])
    english = reader.get("/desk/h/roster/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = reader.get("/desk/h/roster/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    with translation.override("en"):
        assert f"complaint type: {kind.label}" in english and "product line: Ceiling lights" in english
    with translation.override("zh-hans"):
        assert kind.label in chinese and "吸顶灯" in chinese
    assert "handler: * → 伟 王" in english  # first name, last name as Django writes a full name
    for html in (english, chinese):
        assert "complaint_type=" not in html and "product_line=" not in html
        assert f"→ {people['tech_handler'].get_username()}" not in html  # a name, not a username
