"""The queue: filters, sort, pagination, scope, masking and a fixed number of queries."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from closeloop.complaints.models import Complaint, PersonalDataAccess
from closeloop.core.roles import Role
from closeloop.directory.models import Department
from tests.conftest import aware

pytestmark = pytest.mark.django_db


def numbers(response: Any) -> list[str]:
    return re.findall(r'class="number" href="/desk/c/([^/]+)/"', response.content.decode())


def test_queue_requires_login(client: Client) -> None:
    response = client.get("/desk/")
    assert response.status_code == 302
    assert response.url.startswith("/login/")


def test_queue_lists_newest_first_with_columns(
    agent_client: Client, make_complaint: Callable[..., Complaint], product: Any
) -> None:
    old = make_complaint(received_at=aware(2026, 11, 20, 9, 0), product_model="XD-100", phone="13800001111")
    new = make_complaint(received_at=aware(2026, 11, 22, 9, 30), priority=1)

    response = agent_client.get("/desk/?sort=-received_at")

    assert response.status_code == 200
    assert numbers(response) == [new.number, old.number]
    body = response.content.decode()
    assert "2026-11-20 09:00" in body  # local time (Asia/Shanghai)
    assert "13800001111" in body  # agents see phone numbers
    assert "XD-100" in body
    assert "Quality" in body or "质量" in body


def test_queue_is_ordered_by_nearest_deadline_by_default_with_badges(
    agent_client: Client, make_complaint: Callable[..., Complaint]
) -> None:
    import datetime

    from django.utils import timezone

    now = timezone.now()
    # 一般: acknowledge 24 h after receipt; 紧急: 30 min. Received 10 min ago vs 20 h ago vs 30 h ago.
    fresh_normal = make_complaint(priority=3, received_at=now - datetime.timedelta(minutes=10))
    warned_normal = make_complaint(priority=3, received_at=now - datetime.timedelta(hours=20))
    overdue_normal = make_complaint(priority=3, received_at=now - datetime.timedelta(hours=30))
    urgent = make_complaint(priority=1, received_at=now - datetime.timedelta(minutes=10))

    response = agent_client.get("/desk/")

    assert numbers(response) == [overdue_normal.number, urgent.number, warned_normal.number, fresh_normal.number]
    body = response.content.decode()
    assert body.count("tl tl-breached") == 1
    assert body.count("tl tl-warning") == 1  # 20 h of 24 h: past the 80 % warning point
    assert body.count("tl tl-ok") == 2

    overdue = agent_client.get("/desk/?due=overdue")
    assert numbers(overdue) == [overdue_normal.number]
    today = agent_client.get("/desk/?due=today")
    assert overdue_normal.number not in numbers(today)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=acknowledged", ["b"]),
        ("priority=1", ["a"]),
        ("type=logistics", ["c"]),
        ("channel=letter", ["c"]),
        ("product=XD-100", ["a"]),
        ("received_from=2026-11-21&received_to=2026-11-21", ["b"]),
        ("q=漏水", ["b"]),
        ("q=5678", ["c"]),
        ("q=王芳", ["a"]),
    ],
)
def test_queue_filters(
    agent_client: Client,
    agent: User,
    make_complaint: Callable[..., Complaint],
    product: Any,
    query: str,
    expected: list[str],
) -> None:
    from closeloop.complaints.services import complaint_transition

    made = {
        "a": make_complaint(
            received_at=aware(2026, 11, 20, 10), priority=1, product_model="XD-100", customer_name="王芳"
        ),
        "b": make_complaint(received_at=aware(2026, 11, 21, 10), description="热水器漏水"),
        "c": make_complaint(
            received_at=aware(2026, 11, 22, 10), type_code="logistics", channel="letter", phone="13912345678"
        ),
    }
    complaint_transition(complaint=made["b"], action="acknowledge", actor=agent, via="desk")

    response = agent_client.get(f"/desk/?{query}")

    assert numbers(response) == [made[k].number for k in expected]


def test_filters_are_kept_in_the_form(agent_client: Client) -> None:
    response = agent_client.get("/desk/?q=abc&status=registered&received_from=2026-11-01&sort=priority")
    body = response.content.decode()
    assert 'value="abc"' in body
    assert '<option value="registered" selected>' in body
    assert 'value="2026-11-01"' in body
    assert '<option value="priority" selected>' in body


def test_malformed_filter_is_reported_and_ignored(
    agent_client: Client, make_complaint: Callable[..., Complaint]
) -> None:
    complaint = make_complaint()
    response = agent_client.get("/desk/?received_from=yesterday&status=nonsense")
    assert response.status_code == 200
    assert numbers(response) == [complaint.number]
    assert "Enter a valid date." in response.content.decode()


def test_sort_by_priority_and_number(agent_client: Client, make_complaint: Callable[..., Complaint]) -> None:
    normal = make_complaint(priority=3, received_at=aware(2026, 11, 22, 8))
    urgent = make_complaint(priority=1, received_at=aware(2026, 11, 20, 8))
    important = make_complaint(priority=2, received_at=aware(2026, 11, 21, 8))

    assert numbers(agent_client.get("/desk/?sort=priority")) == [urgent.number, important.number, normal.number]
    assert numbers(agent_client.get("/desk/?sort=number")) == [normal.number, urgent.number, important.number]
    assert numbers(agent_client.get("/desk/?sort=received_at")) == [urgent.number, important.number, normal.number]


def test_pagination_keeps_filters(
    agent_client: Client, make_complaint: Callable[..., Complaint], settings: Any
) -> None:
    settings.QUEUE_PAGE_SIZE = 2
    made = [make_complaint(received_at=aware(2026, 11, 10 + i, 8), channel="fax") for i in range(5)]
    make_complaint(channel="hotline")

    first = agent_client.get("/desk/?channel=fax&sort=-received_at")
    third = agent_client.get("/desk/?channel=fax&sort=-received_at&page=3")

    assert numbers(first) == [made[4].number, made[3].number]
    assert numbers(third) == [made[0].number]
    body = first.content.decode()
    assert "Page 1 of 3" in body
    assert 'href="?channel=fax&amp;sort=-received_at&amp;page=2"' in body


def test_htmx_request_gets_the_table_only(agent_client: Client, make_complaint: Callable[..., Complaint]) -> None:
    complaint = make_complaint()
    response = agent_client.get("/desk/?status=registered", headers={"HX-Request": "true"})
    body = response.content.decode()
    assert complaint.number in body
    assert "<html" not in body
    assert "<table" in body


def test_query_count_does_not_grow_with_the_data(
    agent_client: Client, make_complaint: Callable[..., Complaint], count_queries: Callable[[], Any], product: Any
) -> None:
    for i in range(5):
        make_complaint(product_model="XD-100" if i % 2 else "", priority=1 + i % 3)
    agent_client.get("/desk/")  # fills the per-process reference cache (types, departments): counts compare warm pages
    with count_queries() as small:
        assert agent_client.get("/desk/").status_code == 200
    for i in range(35):
        make_complaint(product_model="XD-100" if i % 2 else "", type_code="service")
    agent_client.get("/desk/")  # fills the per-process reference cache (types, departments)
    with count_queries() as large:
        response = agent_client.get("/desk/")
    assert len(numbers(response)) == 25
    assert small.count == large.count


def test_handler_sees_only_their_department(
    client_for: Callable[[User], Client],
    handler: User,
    make_complaint: Callable[..., Complaint],
) -> None:
    mine = make_complaint(type_code="quality")  # quality's default department is `quality`
    other = make_complaint(type_code="installation")  # → tech

    response = client_for(handler).get("/desk/")

    assert numbers(response) == [mine.number]
    assert other.number not in response.content.decode()


def test_masked_for_a_role_without_the_permission(
    client_for: Callable[[User], Client],
    make_user: Callable[..., User],
    department: Department,
    make_complaint: Callable[..., Complaint],
) -> None:
    manager = make_user(Role.DEPT_MANAGER, departments=[department], manager=True)
    make_complaint(phone="13812345678")

    body = client_for(manager).get("/desk/").content.decode()

    assert "138****5678" in body
    assert "13812345678" not in body
    assert not PersonalDataAccess.objects.exists()


def test_unmasked_view_is_logged_once_per_page(
    agent_client: Client, agent: User, make_complaint: Callable[..., Complaint]
) -> None:
    shown = [make_complaint(), make_complaint()]
    agent_client.get("/desk/")
    rows = PersonalDataAccess.objects.filter(where="queue")
    assert sorted(r.complaint_id for r in rows) == sorted(c.pk for c in shown)
    assert {r.user_id for r in rows} == {agent.pk}


def test_dates_are_local(agent_client: Client, make_complaint: Callable[..., Complaint]) -> None:
    # 23:30 in Shanghai is 15:30 UTC: the received-date filter counts in local days.
    late = make_complaint(received_at=datetime.datetime(2026, 11, 20, 15, 30, tzinfo=datetime.UTC))
    assert numbers(agent_client.get("/desk/?received_from=2026-11-20&received_to=2026-11-20")) == [late.number]
    assert "2026-11-20 23:30" in agent_client.get("/desk/").content.decode()


def test_search_finds_by_every_field_whatever_the_path(
    agent_client: Client, make_complaint: Callable[..., Complaint], product: Any, settings: Any
) -> None:
    """The same answers from the indexed lookups (a rare term) and from the queue's own filter (a term
    matching more than the count cap)."""
    target = make_complaint(
        customer_name="欧阳娜娜",
        phone="13700009876",
        product_model="XD-100",
        batch_no="B2026-Q7",
        description="灯罩发黄",
    )
    make_complaint(description="热水器漏水", product_text="燃气热水器")
    terms = ["欧阳娜", "欧阳", "娜", "9876", "b2026-q7", "灯罩发", "发黄", "xd", "XD-1", target.number.lower()]
    terms += [target.number[2:10]]
    for cap in (10_000, 0):  # 0: every term overflows, so the filter path answers
        settings.QUEUE_COUNT_CAP = cap
        for term in terms:
            assert target.number in numbers(agent_client.get("/desk/", {"q": term})), (cap, term)
        assert len(numbers(agent_client.get("/desk/", {"q": "燃气热"}))) == 1
        assert len(numbers(agent_client.get("/desk/", {"q": "燃气"}))) == 1
        for nothing in ("找不到的词", "阳欧", "'", "\\", "%", "_"):
            assert numbers(agent_client.get("/desk/", {"q": nothing})) == [], nothing


def test_counts_stop_at_the_cap(
    agent_client: Client, make_complaint: Callable[..., Complaint], settings: Any, count_queries: Callable[[], Any]
) -> None:
    for _ in range(4):
        make_complaint(description="吸顶灯闪烁")
    settings.QUEUE_COUNT_CAP = 3
    body = agent_client.get("/desk/").content.decode()
    assert "More than 3 complaints" in body
    settings.QUEUE_PAGE_SIZE = 2
    paged = agent_client.get("/desk/")
    assert len(numbers(paged)) == 2 and 'rel="next"' in paged.content.decode()
    settings.QUEUE_PAGE_SIZE = 25
    searched = agent_client.get("/desk/", {"q": "吸顶灯"})
    assert "More than 3 complaints" in searched.content.decode() and len(numbers(searched)) == 4
    settings.QUEUE_COUNT_CAP = 10
    assert "4 complaints" in agent_client.get("/desk/", {"q": "吸顶灯"}).content.decode()
    # A search costs one query more than the plain queue (its ids), whether or not it overflows.
    with count_queries() as plain:
        agent_client.get("/desk/")
    with count_queries() as rare:
        agent_client.get("/desk/", {"q": "吸顶灯"})
    settings.QUEUE_COUNT_CAP = 3
    with count_queries() as common:
        agent_client.get("/desk/", {"q": "吸顶灯"})
    assert rare.count == plain.count + 1
    assert common.count == plain.count  # overflowed: the ids query, but no count query


def _queue_plan(agent: User, filters: Any) -> str:
    from django.db import connection

    from closeloop.complaints.selectors import complaint_queue

    # The page's first statement (selectors.queue_page): its ids in the queue's order.
    ids = complaint_queue(user=agent, filters=filters).values_list("pk", flat=True)[:25]
    sql, params = ids.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return " / ".join(str(row[-1]) for row in cursor.fetchall())


@pytest.mark.parametrize("statistics", [False, True], ids=["never analysed", "analysed"])
def test_the_default_order_reads_a_page_off_an_index(
    agent: User, make_complaint: Callable[..., Complaint], statistics: bool
) -> None:
    """The open queue in nearest-deadline order walks the partial index complaint_open_due: no sort of
    every open complaint (issue 20). With planner statistics like those of the 100,000-complaint bench,
    SQLite took the status index and sorted 16,000 open complaints (6.4 ms) while the IN list was bound
    parameters, which never match a partial index's condition."""
    from django.db import connection

    from closeloop.complaints.selectors import OPEN, QueueFilters

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's plan; PostgreSQL's planner picks by statistics")
    make_complaint()
    if statistics:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            # The bench's table size for every index, then its figures for the two that compete.
            cursor.execute(
                "UPDATE sqlite_stat1 SET stat = '142800' || substr(stat, instr(stat, ' ')) "
                "WHERE tbl = 'complaints_complaint' AND instr(stat, ' ') > 0"
            )
            for index, stat in (
                ("complaint_status_recv", "271320 501 1"),
                ("complaint_due_order", "142800 1001 3 1 1"),
                ("complaint_open_due", "13908 1001 1 1 1"),
            ):
                cursor.execute("DELETE FROM sqlite_stat1 WHERE idx = %s", [index])
                cursor.execute("INSERT INTO sqlite_stat1 VALUES ('complaints_complaint', %s, %s)", [index, stat])
            cursor.execute("ANALYZE sqlite_schema")  # the planner reads the statistics again
    plan = _queue_plan(agent, QueueFilters(status=OPEN))  # the desk's default
    assert "complaint_open_due" in plan and "TEMP B-TREE" not in plan, plan
    # Every complaint (no status filter) still reads its page off the full order's index.
    plan = _queue_plan(agent, QueueFilters())
    assert "complaint_due_order" in plan and "TEMP B-TREE" not in plan, plan


def test_in_words_takes_only_identifiers() -> None:
    from django.db.models import F

    from closeloop.complaints.models import Complaint
    from closeloop.core.lookups import InIndexCondition

    sql = str(Complaint.objects.filter(InIndexCondition(F("status"), ("registered", "reopened"))).query)
    assert "IN ('registered', 'reopened')" in sql
    with pytest.raises(ValueError):
        str(Complaint.objects.filter(InIndexCondition(F("status"), ("registered", "x') OR 1=1 --"))).query)


def test_rows_escape_what_customers_typed(
    client_for: Callable[[User], Client],
    agent: User,
    make_user: Callable[..., User],
    department: Department,
    make_complaint: Callable[..., Complaint],
) -> None:
    """The rows are written in Python (templatetags/desk.py: queue_rows): a name or product typed as HTML
    is shown as text, unmasked and masked alike."""
    make_complaint(customer_name="<script>alert(1)</script>", product_model='"><img src=x onerror=alert(2)>')
    manager = make_user(Role.DEPT_MANAGER, departments=[department], manager=True)
    for user in (agent, manager):
        body = client_for(user).get("/desk/").content.decode()
        assert "<script>alert(1)" not in body and "<img src=x" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
        assert "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in body


def test_rows_in_the_active_language_with_their_links_and_marks(
    agent: User, make_complaint: Callable[..., Complaint]
) -> None:
    from django.utils import translation

    from closeloop.complaints.lifecycle import Status
    from closeloop.complaints.models import Priority

    first = make_complaint(priority=1)
    repeat = make_complaint()
    Complaint.objects.filter(pk=repeat.pk).update(repeat_of=first)  # as intake marks one (followup/repeats)
    for language in ("en", "zh-hans"):
        client = Client(headers={"Accept-Language": language})
        client.force_login(agent)
        body = client.get("/desk/").content.decode()
        with translation.override(language):
            status = str(Status(first.status).label)
            urgent = str(Priority(1).label)
            quality = first.type.label
        assert f'<span class="status status-{first.status}">{status}</span>' in body
        assert f'<span class="prio prio-1">{urgent}</span>' in body
        assert f"<td>{quality}</td>" in body
        assert f'<a class="number" href="/desk/c/{first.number}/">{first.number}</a>' in body
        assert f'aria-label="{first.number}"' in body  # the bulk action's check box
        assert f'{repeat.number}</a> <span class="badge repeat"' in body


def test_queue_statements_are_fixed_and_the_access_log_is_one_insert(
    agent_client: Client,
    make_complaint: Callable[..., Complaint],
    django_assert_max_num_queries: Any,
) -> None:
    """Whatever the rows: the session and user (4), the count and the page (2), the access log (1), the
    unread count, the saved views and the bulk form's handlers (3). The log is one INSERT: no instance
    per row, no ids read back, no transaction of its own."""
    for i in range(30):
        make_complaint(product_model="XD-100" if i % 2 else "", priority=1 + i % 3)
    agent_client.get("/desk/")  # the per-process reference cache (types, departments) filled
    with django_assert_max_num_queries(11) as full:  # the page in two statements: selectors.queue_page
        response = agent_client.get("/desk/")
    assert len(numbers(response)) == 25
    with django_assert_max_num_queries(8) as partial:
        agent_client.get("/desk/?page=2", headers={"HX-Request": "true"})
    for captured in (full, partial):
        log = [q["sql"] for q in captured.captured_queries if "personaldataaccess" in q["sql"]]
        assert len(log) == 1 and log[0].startswith("INSERT INTO"), log
    assert PersonalDataAccess.objects.filter(where="queue").count() == 25 + 25 + 5
