"""`closeloop demo` and `closeloop seed`."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import call_command
from django.http import HttpRequest

from closeloop.complaints.models import Complaint, Event
from closeloop.core.models import ApiToken
from closeloop.core.roles import user_roles
from closeloop.demo.logins import DEMO_PASSWORD, DEMO_USERS
from closeloop.demo.triage_history import DEMO_HISTORY
from closeloop.directory.models import Customer, Membership, Product, ProductLine


def counts() -> dict[str, int]:
    models = [User, Membership, ApiToken, Product, ProductLine, Customer, Complaint, Event]
    return {m.__name__: m.objects.count() for m in models}


@pytest.mark.django_db
def test_demo_is_idempotent_and_prints_the_logins() -> None:
    first_out = StringIO()
    call_command("demo", stdout=first_out)
    after_first = counts()
    second_out = StringIO()
    call_command("demo", stdout=second_out)
    assert counts() == after_first
    # The bulk history, plus the three intakes of the defect-spike demo, the safety-hazard intake
    # (closeloop/triage/demo.py), the two e-mail complaints and the hotline call with its recording
    # (closeloop/demo/callcentre.py).
    # And the previous year's closed complaints the first triage model learns from (closeloop/demo/triage_history.py).
    assert after_first["Complaint"] == 307 + DEMO_HISTORY
    replied = Event.objects.get(action="customer_replied", note__startswith="好的，谢谢。")
    assert replied.complaint.channel == "email" and "写道" not in replied.note
    assert after_first["ApiToken"] == 1
    assert "API token" in first_out.getvalue() and "API token" not in second_out.getvalue()
    for username, _role, _description in DEMO_USERS:
        assert username in second_out.getvalue()


@pytest.mark.django_db
def test_demo_users_have_their_roles_departments_and_password() -> None:
    call_command("demo", stdout=StringIO())
    login_request = HttpRequest()  # the lockout backend counts per client address
    login_request.META["REMOTE_ADDR"] = "127.0.0.1"
    for username, role, _description in DEMO_USERS:
        user = authenticate(login_request, username=username, password=DEMO_PASSWORD)
        assert user is not None, username
        assert role in user_roles(user)
    assert User.objects.get(username="admin").is_superuser
    handler_departments = set(
        Membership.objects.filter(user__username="handler").values_list("department__code", flat=True)
    )
    assert handler_departments == {"quality", "tech"}
    assert Membership.objects.get(user__username="manager", department__code="quality").is_manager


@pytest.mark.django_db
def test_demo_does_not_add_complaints_when_there_are_some(make_complaint: object) -> None:
    make_complaint()  # type: ignore[operator]
    call_command("demo", stdout=StringIO())
    assert Complaint.objects.count() == 1


@pytest.mark.django_db
def test_seed_command_appends() -> None:
    out = StringIO()
    call_command("seed", complaints=50, seed=4, days=10, stdout=out, stderr=StringIO())
    call_command("seed", complaints=50, seed=5, days=10, stdout=out, stderr=StringIO())
    assert Complaint.objects.count() == 100
    assert Complaint.objects.values("number").distinct().count() == 100
    assert "Added 50 complaints" in out.getvalue()
    assert "tasks" in out.getvalue() and "follow-ups" in out.getvalue() and "rows/s" in out.getvalue()
    assert Event.objects.filter(action="task_created").exists()
    assert Event.objects.filter(action="followup_created").exists()


@pytest.mark.django_db
def test_demo_trains_a_triage_model_and_agents_get_learned_suggestions() -> None:
    from closeloop.complaints.lifecycle import Status
    from closeloop.triage import learn
    from closeloop.triage.models import TriageModel
    from closeloop.triage.suggest import triage_suggest

    learn.forget()
    call_command("demo", stdout=StringIO())
    model = TriageModel.objects.get()  # the first version, learned at the end of the demo load
    assert model.samples >= 300
    assert Complaint.objects.filter(status=Status.CLOSED).count() >= DEMO_HISTORY
    assert model.scores["type"] >= 0.8
    got = triage_suggest(description="物流显示已签收，但是根本没收到台灯，快递员也联系不上")
    assert got.model_version == model.version
    assert got.type is not None and (got.type.value, got.type.source) == ("logistics", "model")
    assert got.department is not None and got.department.source == "model"
    learn.forget()
