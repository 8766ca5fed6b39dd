"""The responsibility roster: edits by managers with a change log, leave with cover, proposals."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User

from closeloop.complaints.models import Complaint
from closeloop.core.errors import DomainError, PermissionDeniedError, ValidationFailed
from closeloop.core.roles import Role
from closeloop.directory.models import Absence, ComplaintType, Department, Product, RosterChange, RosterEntry
from closeloop.handling.services.roster import (
    absence_create,
    roster_entry_create,
    roster_entry_end,
    roster_entry_update,
    roster_propose,
)

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 11, 23)


@pytest.fixture
def qtype(db: None) -> ComplaintType:
    return ComplaintType.objects.get(code="quality")


def line(department: Department, manager: User, **kwargs: object) -> RosterEntry:
    kwargs.setdefault("valid_from", DAY - datetime.timedelta(days=30))
    return roster_entry_create(department=department, actor=manager, **kwargs)  # type: ignore[arg-type]


def test_manager_creates_updates_and_ends_a_line_each_change_logged(
    people: dict[str, User], tech_dept: Department, qtype: ComplaintType
) -> None:
    entry = line(tech_dept, people["tech_manager"], handler=people["tech_handler"], complaint_type=qtype)
    roster_entry_update(entry=entry, values={"province": "广东"}, actor=people["tech_manager"])
    roster_entry_end(entry=entry, actor=people["tech_manager"], on=DAY)

    changes = list(RosterChange.objects.filter(entry=entry))
    assert [c.action for c in changes] == ["created", "updated", "ended"]
    assert changes[0].before == {} and changes[0].after["handler"] == "p_th"
    assert changes[1].before["province"] == "" and changes[1].after["province"] == "广东"
    assert changes[2].before["valid_to"] is None and changes[2].after["valid_to"] == "2026-11-23"
    assert all(c.actor == people["tech_manager"] for c in changes)


def test_an_update_that_changes_nothing_writes_no_log(people: dict[str, User], tech_dept: Department) -> None:
    entry = line(tech_dept, people["tech_manager"])
    roster_entry_update(entry=entry, values={"note": ""}, actor=people["tech_manager"])
    assert RosterChange.objects.filter(entry=entry).count() == 1


def test_admin_may_edit_any_department(make_user: Callable[..., User], tech_dept: Department) -> None:
    admin = make_user(Role.ADMIN)
    assert line(tech_dept, admin).department == tech_dept


@pytest.mark.parametrize("role", ["quality_manager", "tech_handler", "agent", "supervisor", "auditor"])
def test_only_the_departments_manager_edits_its_roster(
    role: str, people: dict[str, User], tech_dept: Department
) -> None:
    with pytest.raises(PermissionDeniedError):
        line(tech_dept, people[role])
    entry = line(tech_dept, people["tech_manager"])
    with pytest.raises(PermissionDeniedError):
        roster_entry_update(entry=entry, values={"province": "x"}, actor=people[role])
    with pytest.raises(PermissionDeniedError):
        roster_entry_end(entry=entry, actor=people[role])
    assert RosterChange.objects.count() == 1


def test_line_validation(people: dict[str, User], tech_dept: Department) -> None:
    with pytest.raises(ValidationFailed) as exc:
        line(
            tech_dept,
            people["tech_manager"],
            handler=people["quality_handler"],
            valid_to=DAY - datetime.timedelta(days=60),
        )
    assert set(exc.value.errors) == {"handler", "valid_to"}
    assert not RosterEntry.objects.exists()
    entry = line(tech_dept, people["tech_manager"])
    roster_entry_end(entry=entry, actor=people["tech_manager"], on=DAY)
    with pytest.raises(DomainError):
        roster_entry_end(entry=entry, actor=people["tech_manager"], on=DAY)
    with pytest.raises(DomainError):
        roster_entry_update(entry=entry, values={"department": tech_dept}, actor=people["tech_manager"])


# --- absences ----------------------------------------------------------------------------------------


def test_manager_records_leave_with_a_cover(
    people: dict[str, User], make_user: Callable[..., User], tech_dept: Department
) -> None:
    cover = make_user(Role.HANDLER, departments=[tech_dept])
    absence = absence_create(
        user=people["tech_handler"], starts=DAY, ends=DAY, cover=cover, actor=people["tech_manager"]
    )
    assert absence.cover == cover and absence.created_by == people["tech_manager"]


def test_absence_refusals(people: dict[str, User]) -> None:
    with pytest.raises(PermissionDeniedError):  # another department's manager
        absence_create(user=people["tech_handler"], starts=DAY, ends=DAY, actor=people["quality_manager"])
    with pytest.raises(PermissionDeniedError):  # the person themself
        absence_create(user=people["tech_handler"], starts=DAY, ends=DAY, actor=people["tech_handler"])
    with pytest.raises(ValidationFailed) as exc:
        absence_create(
            user=people["tech_handler"],
            starts=DAY,
            ends=DAY - datetime.timedelta(days=1),
            cover=people["quality_handler"],
            actor=people["tech_manager"],
        )
    assert set(exc.value.errors) == {"ends", "cover"}
    assert not Absence.objects.exists()


# --- proposals ---------------------------------------------------------------------------------------


def test_the_most_specific_active_line_per_department_wins(
    people: dict[str, User],
    make_user: Callable[..., User],
    make_complaint: Callable[..., Complaint],
    tech_dept: Department,
    quality_dept: Department,
    qtype: ComplaintType,
    product: Product,
) -> None:
    generalist = make_user(Role.HANDLER, departments=[tech_dept])
    specialist = make_user(Role.HANDLER, departments=[tech_dept])
    guangdong = make_user(Role.HANDLER, departments=[tech_dept])
    line(tech_dept, people["tech_manager"], handler=generalist)
    line(tech_dept, people["tech_manager"], handler=specialist, complaint_type=qtype, product_line=product.line)
    line(tech_dept, people["tech_manager"], handler=guangdong, province="广东")  # 1 criterion: less specific
    line(
        tech_dept,
        people["tech_manager"],
        handler=people["tech_handler"],
        complaint_type=qtype,
        product_line=product.line,
        valid_from=DAY + datetime.timedelta(days=1),
    )  # not yet in force
    ended = line(
        tech_dept,
        people["tech_manager"],
        handler=people["tech_handler"],
        complaint_type=qtype,
        product_line=product.line,
        province="广东",
    )
    roster_entry_end(entry=ended, actor=people["tech_manager"], on=DAY - datetime.timedelta(days=1))
    line(quality_dept, people["quality_manager"], handler=people["quality_handler"], province="浙江")  # no match
    complaint = make_complaint(actor=people["agent"], product_model=product.model, province="广东")

    proposals = roster_propose(complaint=complaint, on=DAY)

    assert [(p.department.code, p.handler) for p in proposals] == [("tech", specialist)]


def test_an_absent_handler_is_replaced_by_the_cover_or_the_pool(
    people: dict[str, User],
    make_user: Callable[..., User],
    make_complaint: Callable[..., Complaint],
    tech_dept: Department,
    quality_dept: Department,
    qtype: ComplaintType,
) -> None:
    cover = make_user(Role.HANDLER, departments=[tech_dept])
    line(tech_dept, people["tech_manager"], handler=people["tech_handler"], complaint_type=qtype)
    line(quality_dept, people["quality_manager"], handler=people["quality_handler"])
    absence_create(user=people["tech_handler"], starts=DAY, ends=DAY, cover=cover, actor=people["tech_manager"])
    absence_create(user=people["quality_handler"], starts=DAY, ends=DAY, actor=people["quality_manager"])
    complaint = make_complaint(actor=people["agent"])

    proposals = {p.department.code: p for p in roster_propose(complaint=complaint, on=DAY)}

    assert proposals["tech"].handler == cover and proposals["tech"].covering_for == people["tech_handler"]
    assert proposals["quality"].handler is None
    # The day after, everybody is back.
    back = {
        p.department.code: p.handler for p in roster_propose(complaint=complaint, on=DAY + datetime.timedelta(days=1))
    }
    assert back == {"tech": people["tech_handler"], "quality": people["quality_handler"]}
    # The more specific tech line (type) comes first.
    assert [p.department.code for p in roster_propose(complaint=complaint, on=DAY)] == ["tech", "quality"]


def test_without_a_matching_line_the_types_department_is_proposed(
    people: dict[str, User], make_complaint: Callable[..., Complaint]
) -> None:
    complaint = make_complaint(actor=people["agent"], type_code="logistics")
    proposals = roster_propose(complaint=complaint, on=DAY)
    assert [(p.department.code, p.handler) for p in proposals] == [("warehouse", None)]
