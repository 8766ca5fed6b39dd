"""The KPI REST API: figures with counts, targets and drill-down links; the tables; the drill-down lists
(masked like the complaint list, a fixed number of queries); the targets; who may read what; 422s.

The API reads "now" from the clock, so the fixture month (tests/insight/month.py) is read after every
deadline of its stories has passed (any day after 2026-11-05 09:00): compared with the hand counts at
2026-11-02 10:00 in test_kpis_month.py, c09 (resolution due 11-04 09:00) and c16 (11-05 09:00) now count
as unresolved and overdue, and the tasks T7 (reply due 11-03 10:00) and U4 (11-02 15:00) as unanswered.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from closeloop.complaints.models import PersonalDataAccess
from closeloop.core.roles import Role
from closeloop.core.services import api_token_create
from closeloop.directory.models import Department
from closeloop.insight.models import KpiTarget
from tests.api.conftest import ApiClient
from tests.insight.kpi_fixtures import make_month, make_staff
from tests.insight.month import Month, at
from tests.insight.scenarios import handled

pytestmark = pytest.mark.django_db

KPIS = "/api/v1/kpis"


@pytest.fixture
def month(make_user: Callable[..., Any], settings: Any) -> Month:
    assert timezone.now() > at(11, 5, 9, 1), "these counts are for a reading after every deadline has passed"
    return make_month(make_user, settings)


@pytest.fixture
def staff(make_user: Callable[..., User]) -> dict[str, User]:
    return make_staff(make_user)


@pytest.fixture
def api() -> Callable[[User], ApiClient]:
    def make(user: User) -> ApiClient:
        _token, raw_key = api_token_create(user=user, name=f"tests-{user.username}")
        return ApiClient(raw_key)

    return make


@pytest.fixture
def english(settings: Any) -> Any:
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def by_kpi(body: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {k["kpi"]: (k["numerator"], k["denominator"]) for k in body["kpis"]}


# The whole company read after 11-05: as test_kpis_month.EVERY, but TP 8/(13 + c09 + c16) and
# TR 7/(9 + T7 + U4).
EVERY_LATER = {
    "timely_processing": (8, 15),
    "timely_reply": (7, 11),
    "communication": (6, 10),
    "result_reply": (6, 10),
    "satisfaction": (5, 7),
    "repeat": (1, 16),
    "ack_on_time": (14, 16),  # c02 acknowledged by its dispatch from registered (test_kpis_month.EVERY)
    "followup_on_time": (5, 10),
    "reopen": (1, 10),
}


def test_overview_of_the_month_with_counts_targets_and_links(
    month: Month, api: Callable[[User], ApiClient], english: None
) -> None:
    client = api(month.people["supervisor"])
    response = client.get(f"{KPIS}?month=2026-10")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["period"] == {"start": "2026-10-01", "end": "2026-10-31", "label": "2026-10"}
    assert body["cuts"] == {}
    assert by_kpi(body) == EVERY_LATER
    figures = {k["kpi"]: k for k in body["kpis"]}
    # 8/15 = 53.3 % against the default target of 95 %; the repeat rate 1/16 = 6.3 % over its 5 % ceiling.
    assert figures["timely_processing"]["rate"] == 53.3
    assert figures["timely_processing"]["target"] == 95.0 and figures["timely_processing"]["meets_target"] is False
    assert figures["repeat"]["rate"] == 6.3 and figures["repeat"]["lower_is_better"] is True
    assert figures["repeat"]["meets_target"] is False
    assert figures["timely_reply"]["label"].startswith("timely reply rate")
    assert figures["communication"]["links"] == {
        "numerator": "/api/v1/kpis/communication/numerator/complaints?month=2026-10",
        "denominator": "/api/v1/kpis/communication/denominator/complaints?month=2026-10",
    }
    times = {t["milestone"]: t for t in body["response_times"]}
    assert (times["resolution"]["count"], times["resolution"]["median_hours"], times["resolution"]["p90_hours"]) == (
        10,
        16.0,
        25.0,
    )
    backlog = {row["milestone"]: row for row in body["backlog"]}
    # Read after every deadline: what is open is overdue, except the paused clocks (c13's first response and
    # resolution, V2's reply and progress). Resolution: e0 e3 c08 c09 c10 c13 c14 c16.
    assert backlog["resolution"]["open"] == 8 and backlog["resolution"]["overdue"] == 7
    assert backlog["resolution"]["label"] == "resolution"
    assert body["breaches"] == []  # no SLA sweep ran

    # The worked examples through the links, cut: F1's communication 4/5.
    response = client.get(f"{KPIS}?month=2026-10&product_line=f1")
    figure = {k["kpi"]: k for k in response.json()["kpis"]}["communication"]
    assert (figure["numerator"], figure["denominator"], figure["rate"]) == (4, 5, 80.0)
    assert figure["links"]["numerator"].endswith("?month=2026-10&product_line=f1")
    listed = client.get(figure["links"]["numerator"]).json()
    assert listed["count"] == 4
    assert {c["number"] for c in listed["items"]} == month.numbers("c01", "c02", "c03", "c04")
    assert response.json()["cuts"] == {"product_line": "f1"}


def test_scope_tables_and_drill_down(month: Month, api: Callable[[User], ApiClient]) -> None:
    people = month.people
    # The quality manager sees quality: its complaints, its tasks (T7 and U4 now overdue too).
    quality = by_kpi(api(people["qm"]).get(f"{KPIS}?month=2026-10").json())
    assert quality == {
        "timely_processing": (7, 13),
        "timely_reply": (6, 10),
        "communication": (6, 9),
        "result_reply": (6, 9),
        "satisfaction": (4, 6),
        "repeat": (1, 14),
        "ack_on_time": (12, 14),  # as test_kpis_month.test_cuts: c02 acknowledged by its dispatch
        "followup_on_time": (4, 9),
        "reopen": (1, 9),
    }
    # The production manager: c08 and the tasks V1 (on time) and V2 (still paused).
    production = api(people["pm"])
    assert by_kpi(production.get(f"{KPIS}?month=2026-10").json()) == {
        "timely_processing": (0, 1),
        "timely_reply": (1, 1),
        "communication": (0, 1),
        "result_reply": (0, 1),
        "satisfaction": (0, 0),
        "repeat": (0, 1),
        "ack_on_time": (1, 1),
        "followup_on_time": (0, 0),
        "reopen": (0, 0),
    }
    # Quality's figures are not production's business: nothing, and no list either.
    outside = by_kpi(production.get(f"{KPIS}?month=2026-10&department=quality").json())
    assert set(outside.values()) == {(0, 0)}
    assert production.get(f"{KPIS}/communication/denominator/complaints?month=2026-10&department=quality").json() == {
        "items": [],
        "count": 0,
        "count_capped": False,
    }
    # By handler, production's manager sees hp (V1, V2, c04… no: c04 is quality's) and h2, whose task U2 is on
    # production's complaint c08; h1 has nothing of production's.
    rows = {row["key"] for row in production.get(f"{KPIS}/table?month=2026-10&group_by=handler").json()["rows"]}
    assert rows == {"m_h2", "m_hp"}

    # The tables, for the supervisor.
    supervisor = api(people["supervisor"])
    table = supervisor.get(f"{KPIS}/table?month=2026-10&group_by=department").json()
    assert table["group_by"] == "department"
    rows = {row["key"]: by_kpi(row) for row in table["rows"]}
    assert set(rows) == {"quality", "production", "cs"}
    assert rows["quality"] == quality
    assert rows["cs"]["satisfaction"] == (1, 1)
    handlers = {
        row["key"]: row for row in supervisor.get(f"{KPIS}/table?month=2026-10&group_by=handler").json()["rows"]
    }
    assert set(handlers) == {"m_h1", "m_h2", "m_hp"}
    # h1: T1–T5 on time, T6 late, T7 now overdue (the withdrawn T8 left out): 5/7.
    h1 = {k["kpi"]: k for k in handlers["m_h1"]["kpis"]}
    assert (h1["timely_reply"]["numerator"], h1["timely_reply"]["denominator"]) == (5, 7)
    assert h1["timely_reply"]["links"]["denominator"].endswith("?month=2026-10&handler=m_h1")
    listed = supervisor.get(h1["timely_reply"]["links"]["denominator"]).json()
    assert {c["number"] for c in listed["items"]} == month.numbers("c01", "c02", "c03", "c04", "c05", "c06", "c09")

    # Pages of a list, oldest first: the timely processing denominator (15 complaints).
    first = supervisor.get(f"{KPIS}/timely_processing/denominator/complaints?month=2026-10&limit=10").json()
    second = supervisor.get(f"{KPIS}/timely_processing/denominator/complaints?month=2026-10&limit=10&offset=10").json()
    assert first["count"] == second["count"] == 15
    assert len(first["items"]) == 10 and len(second["items"]) == 5
    received = [c["received_at"] for c in first["items"] + second["items"]]
    assert received == sorted(received)
    assert first["items"][0]["number"] == month.complaints["c15"].number  # 10-01 00:00


def test_lists_are_masked_like_the_complaint_list(
    make_complaint: Callable[..., Any], staff: dict[str, User], make_user: Callable[..., User], api: Callable[..., Any]
) -> None:
    complaint = handled(make_complaint, staff, 12)
    phone = complaint.customer.phone
    path = f"{KPIS}/satisfaction/numerator/complaints?month=2026-10"
    # The CS supervisor may see personal data: shown, and the view logged.
    supervisor = make_user(Role.CS_SUPERVISOR)
    item = api(supervisor).get(path).json()["items"][0]
    assert item["customer"]["phone"] == phone and item["customer"]["masked"] is False
    assert PersonalDataAccess.objects.filter(user=supervisor, complaint=complaint, where="api_kpi").count() == 1
    # Management and quality may not: masked to the last four digits, nothing logged.
    for role in (Role.MANAGEMENT, Role.QUALITY):
        user = make_user(role)
        item = api(user).get(path).json()["items"][0]
        assert item["customer"]["phone"] == f"{phone[:3]}****{phone[-4:]}" and item["customer"]["masked"] is True
        assert not PersonalDataAccess.objects.filter(user=user).exists()


def test_fixed_number_of_queries(
    make_complaint: Callable[..., Any],
    staff: dict[str, User],
    make_user: Callable[..., User],
    count_queries: Callable[[], Any],
) -> None:
    # Browser sessions: a bearer key's last-used time is written at most once a minute, which would make
    # the counts depend on the clock.
    supervisor, manager = Client(), Client()
    supervisor.force_login(make_user(Role.CS_SUPERVISOR))
    manager.force_login(
        make_user(Role.DEPT_MANAGER, departments=[Department.objects.get(code="quality")], manager=True)
    )
    paths = {
        "overview": f"{KPIS}?month=2026-10&product_line=&handler=k_h1",
        "table": f"{KPIS}/table?month=2026-10&group_by=handler",
        "list": f"{KPIS}/communication/denominator/complaints?month=2026-10&limit=50",
    }

    def measure() -> dict[str, int]:
        measured = {}
        for who, client in (("supervisor", supervisor), ("manager", manager)):
            for name, path in paths.items():
                with count_queries() as counter:
                    response = client.get(path)
                assert response.status_code == 200, response.content
                measured[f"{who}:{name}"] = counter.count
        return measured

    for day in (12, 13):
        handled(make_complaint, staff, day)
    small = measure()
    for day in (14, 15, 16, 19, 20):
        handled(make_complaint, staff, day)
    large = measure()
    assert small == large
    assert supervisor.get(paths["list"]).json()["count"] == 7
    # The list: session and user, roles, scope, the page, its count, the log of the unmasked page.
    assert large["supervisor:list"] <= 8, large


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.MANAGEMENT, 200),
        (Role.CS_SUPERVISOR, 200),
        (Role.QUALITY, 200),
        (Role.AUDITOR, 200),
        (Role.ADMIN, 200),
        (Role.DEPT_MANAGER, 200),
        (Role.HANDLER, 403),
        (Role.AGENT, 403),
    ],
)
def test_who_may_read(role: Role, status: int, make_user: Callable[..., User], api: Callable[..., Any]) -> None:
    quality = Department.objects.get(code="quality")
    client = api(make_user(role, departments=[quality], manager=role == Role.DEPT_MANAGER))
    for path in (
        f"{KPIS}?month=2026-10",
        f"{KPIS}/table?month=2026-10",
        f"{KPIS}/reopen/numerator/complaints?month=2026-10",
        "/api/v1/kpi-targets",
    ):
        assert client.get(path).status_code == status, path


def test_session_and_no_credentials(make_user: Callable[..., User]) -> None:
    assert Client().get(f"{KPIS}?month=2026-10").status_code == 401
    browser = Client()
    browser.force_login(make_user(Role.AUDITOR))
    assert browser.get(f"{KPIS}?month=2026-10").status_code == 200
    # The default period is the current month.
    today = timezone.localdate()
    assert browser.get(KPIS).json()["period"]["label"] == f"{today:%Y-%m}"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-10-31&to=2026-10-01", "to"),
        ("from=2026-10-01", "to"),
        ("to=2026-10-01", "from"),
        ("from=2026-10-32&to=2026-11-01", "from"),
        ("month=2026-13", "month"),
        ("month=10-2026", "month"),
        ("month=2026-10&from=2026-10-01&to=2026-10-02", "month"),
        ("month=1999-12", "month"),
        ("from=0001-01-01&to=2026-10-01", "from"),
        ("month=2026-10&department=nowhere", "department"),
        ("month=2026-10&handler=nobody", "handler"),
        ("month=2026-10&product_line=nope", "product_line"),
        ("month=2026-10&product=NOPE-1", "product"),
        ("month=2026-10&type=nope", "type"),
        ("month=2026-10&priority=4", "priority"),
        ("month=2026-10&channel=pigeon", "channel"),
        ("month=2026-10&customer_kind=alien", "customer_kind"),
    ],
)
def test_bad_periods_and_cuts_are_field_errors(
    query: str, field: str, make_user: Callable[..., User], api: Callable[..., Any]
) -> None:
    client = api(make_user(Role.MANAGEMENT))
    for path in (KPIS, f"{KPIS}/table", f"{KPIS}/timely_reply/numerator/complaints"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 422, (path, response.content)
        assert [e["loc"] for e in response.json()["detail"]] == [["query", field]], response.content


def test_unknown_kpi_side_or_grouping(make_user: Callable[..., User], api: Callable[..., Any]) -> None:
    client = api(make_user(Role.MANAGEMENT))
    response = client.get(f"{KPIS}/happiness/numerator/complaints?month=2026-10")
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["path", "kpi"]
    response = client.get(f"{KPIS}/reopen/sideways/complaints?month=2026-10")
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["path", "side"]
    response = client.get(f"{KPIS}/table?month=2026-10&group_by=region")
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "group_by"]


def test_targets(make_user: Callable[..., User], api: Callable[..., Any], english: None) -> None:
    management = make_user(Role.MANAGEMENT)
    auditor = api(make_user(Role.AUDITOR))
    targets = {row["kpi"]: row for row in auditor.get("/api/v1/kpi-targets").json()}
    assert targets["timely_processing"]["target"] == 95.0 and targets["repeat"]["lower_is_better"] is True
    # Only who holds insight.change_kpitarget (management, admin) may change them.
    for role in (Role.CS_SUPERVISOR, Role.AUDITOR, Role.HANDLER):
        response = api(make_user(role)).put(
            "/api/v1/kpi-targets", data={"targets": {"timely_reply": 80}}, content_type="application/json"
        )
        assert response.status_code == 403, role
    client = api(management)
    for body, loc in (
        ({"targets": {"timely_reply": 101}}, ["body", "targets", "timely_reply"]),
        ({"targets": {"timely_reply": -1}}, ["body", "targets", "timely_reply"]),
        ({"targets": {"timely_reply": 83.25}}, ["body", "targets", "timely_reply"]),
        ({"targets": {"happiness": 50}}, ["body", "targets", "happiness", "[key]"]),
    ):
        response = client.put("/api/v1/kpi-targets", data=body, content_type="application/json")
        assert response.status_code == 422, body
        assert response.json()["detail"][0]["loc"] == loc, response.content
    assert KpiTarget.objects.get(kpi="timely_reply").target == Decimal("90.0")
    response = client.put(
        "/api/v1/kpi-targets", data={"targets": {"timely_reply": 85, "reopen": 3.5}}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    rows = {row["kpi"]: row for row in response.json()}
    assert rows["timely_reply"]["target"] == 85.0 and rows["timely_reply"]["updated_by"] == management.username
    assert rows["reopen"]["target"] == 3.5 and rows["timely_processing"]["target"] == 95.0
    # The figures show the new target.
    figures = {k["kpi"]: k for k in client.get(f"{KPIS}?month=2026-10").json()["kpis"]}
    assert figures["timely_reply"]["target"] == 85.0


def test_documented_in_openapi(make_user: Callable[..., User]) -> None:
    browser = Client()
    browser.force_login(make_user(Role.ADMIN))
    schema = browser.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    assert set(paths["/api/v1/kpis"]["get"]["responses"]) >= {"200", "401", "403", "422"}
    parameters = {p["name"] for p in paths["/api/v1/kpis"]["get"]["parameters"]}
    assert parameters >= {"month", "from", "to", "department", "handler", "product_line", "product", "province"}
    assert parameters >= {"channel", "type", "priority", "customer_kind"}
    assert "/api/v1/kpis/table" in paths
    drill = paths["/api/v1/kpis/{kpi}/{side}/complaints"]["get"]
    assert {p["name"] for p in drill["parameters"]} >= {"kpi", "side", "limit", "offset"}
    assert set(paths["/api/v1/kpi-targets"]) == {"get", "put"}
    assert {"KpisOut", "KpiOut", "TableOut", "TargetOut", "TargetsIn"} <= set(schema["components"]["schemas"])
