"""Intake reads the customer before its write transaction (issue 20: on SQLite the transaction holds the
one writer lock) and asks again inside it when none was found."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from closeloop.complaints import services
from closeloop.complaints.models import Complaint, Event
from closeloop.directory.models import Customer, CustomerKind
from closeloop.sla.services import policy_for

pytestmark = pytest.mark.django_db

PHONE = "13911112222"


def _intake(**overrides: object) -> services.IntakeData:
    values: dict[str, object] = {
        "channel": "api",
        "customer_name": "王芳",
        "phone": PHONE,
        "description": "灯不亮",
        "type_code": "quality",
    }
    values.update(overrides)
    return services.IntakeData(**values)  # type: ignore[arg-type]


def test_a_customer_registered_meanwhile_is_reused_not_made_twice(agent: User, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another intake of the same new customer commits between this intake's read and its transaction."""
    read = services.customer_find
    reads: list[Customer | None] = []

    def read_then_another_intake_commits(*, phone: str, email: str) -> Customer | None:
        found = read(phone=phone, email=email)
        if not reads:
            Customer.objects.create(name="王芳", phone=PHONE, kind=CustomerKind.DEALER)
        reads.append(found)
        return found

    monkeypatch.setattr(services, "customer_find", read_then_another_intake_commits)
    complaint = services.complaint_register(data=_intake(), actor=agent, via="api")

    assert reads[0] is None  # the read before the transaction found nobody
    assert Customer.objects.filter(phone=PHONE).count() == 1
    assert complaint.customer.kind == CustomerKind.DEALER
    # Its clocks follow the customer it got, not the kind the intake named.
    assert policy_for(customer_kind=CustomerKind.END_USER, product_line_id=None) != complaint.sla_policy
    assert complaint.sla_policy == policy_for(customer_kind=CustomerKind.DEALER, product_line_id=None)
    assert Event.objects.get(complaint=complaint, action="registered").after["customer_created"] is False


def test_a_returning_customer_is_read_once_and_filled_in(agent: User) -> None:
    first = services.complaint_register(data=_intake(), actor=agent, via="api")
    second = services.complaint_register(data=_intake(email="wf@example.cn", city="杭州"), actor=agent, via="api")

    assert second.customer_id == first.customer_id
    customer = Customer.objects.get(pk=first.customer_id)
    assert (customer.email, customer.city) == ("wf@example.cn", "杭州市")
    assert Complaint.objects.filter(customer=customer).count() == 2


def test_intake_writes_the_rows_save_would_have_written(agent: User) -> None:
    """Intake inserts the customer, the complaint and its clocks with core/inserts.insert_rows instead of
    save() and bulk_create (issue 20). That is the same only while nothing listens to their saving: no
    save() override, no pre_save/post_save receiver. The instances intake returns are the rows read back."""
    from django.db import models
    from django.db.models.signals import post_save, pre_save

    from closeloop.sla.models import Deadline

    for model in (Complaint, Customer, Deadline):
        assert model.save is models.Model.save, model
        assert not pre_save.has_listeners(model) and not post_save.has_listeners(model), model

    complaint = services.complaint_register(
        data=_intake(province="浙江", email="wf@example.cn", batch_no=" B-7 "), actor=agent, via="api"
    )

    assert not complaint._state.adding and not complaint.customer._state.adding
    for written in (complaint, complaint.customer, *complaint.deadlines.all()):
        stored = type(written).objects.get(pk=written.pk)
        for field in type(written)._meta.concrete_fields:
            assert getattr(stored, field.attname) == getattr(written, field.attname), (type(written), field.name)
    assert complaint.updated_at is not None and complaint.customer.created_at is not None
    assert complaint.batch_no == "B-7" and complaint.customer.email == "wf@example.cn"
    assert len(complaint.deadlines.all()) == Deadline.objects.filter(complaint=complaint).count() > 0
