"""Domain rule 5 at intake: same complainant, same product model, within the window after an earlier
complaint was resolved → marked repeat and linked; a reopen is never a repeat."""

from __future__ import annotations

import datetime

import pytest

from closeloop.complaints import repeats
from closeloop.complaints.lifecycle import TRANSITIONS, Status
from closeloop.complaints.models import Complaint, Event
from closeloop.complaints.services import transition_apply
from tests.complaints.repeats.conftest import PHONE, T0

DAY = datetime.timedelta(days=1)
pytestmark = pytest.mark.django_db


@pytest.fixture
def earlier(complaint_at, resolve, product):
    complaint = complaint_at(T0, product_model=product.model)
    return resolve(complaint, at=T0 + DAY)


def test_same_customer_and_model_inside_the_window_is_a_repeat(earlier, complaint_at, product):
    new = complaint_at(T0 + 13 * DAY, product_model=product.model)

    new.refresh_from_db()
    assert new.repeat_of == earlier
    assert new.repeat_reason == f"same customer and model XD-100; {earlier.number} resolved 12 days earlier"
    event = Event.objects.get(complaint=new, action="repeat_detected")
    assert event.after == {"repeat_of": earlier.number}
    assert event.note == new.repeat_reason
    assert earlier.number in event.note


def test_the_last_day_of_the_window_still_counts(earlier, complaint_at, product):
    new = complaint_at(T0 + DAY + 90 * DAY, product_model=product.model)
    assert new.repeat_of == earlier


def test_outside_the_window_91_days_is_not_a_repeat(earlier, complaint_at, product):
    new = complaint_at(T0 + DAY + 91 * DAY, product_model=product.model)

    assert new.repeat_of is None
    assert new.repeat_reason == ""
    assert not Event.objects.filter(complaint=new, action="repeat_detected").exists()


def test_the_window_is_configurable(settings, earlier, complaint_at, product):
    settings.REPEAT_WINDOW_DAYS = 10
    assert complaint_at(T0 + 12 * DAY, product_model=product.model).repeat_of is None


def test_another_model_is_not_a_repeat(earlier, complaint_at, product):
    from closeloop.directory.models import Product

    other = Product.objects.create(model="XD-200", line=product.line, name="LED吸顶灯", name_en="LED ceiling light")
    assert complaint_at(T0 + 5 * DAY, product_model=other.model).repeat_of is None


def test_another_customer_is_not_a_repeat(earlier, complaint_at, product):
    assert complaint_at(T0 + 5 * DAY, product_model=product.model, phone="13900000002").repeat_of is None


def test_no_product_named_is_not_a_repeat(earlier, complaint_at):
    assert complaint_at(T0 + 5 * DAY).repeat_of is None


def test_free_text_product_same_text_any_case_is_a_repeat(complaint_at, resolve):
    first = resolve(complaint_at(T0, product_text="Garden lamp GL-7"), at=T0 + DAY)

    new = complaint_at(T0 + 3 * DAY, product_text="garden LAMP gl-7")

    assert new.repeat_of == first
    assert new.repeat_reason.startswith("same customer and model garden LAMP gl-7;")


def test_free_text_product_different_text_is_not_a_repeat(complaint_at, resolve):
    resolve(complaint_at(T0, product_text="Garden lamp GL-7"), at=T0 + DAY)
    assert complaint_at(T0 + 3 * DAY, product_text="Desk lamp DL-1").repeat_of is None


def test_an_earlier_complaint_not_resolved_yet_does_not_count(complaint_at, product):
    complaint_at(T0, product_model=product.model)  # still registered
    assert complaint_at(T0 + 3 * DAY, product_model=product.model).repeat_of is None


def test_resolved_after_the_new_complaint_was_received_does_not_count(complaint_at, resolve, product):
    first = complaint_at(T0, product_model=product.model)
    # Received on day 2 (entered late, on day 6), the first one resolved on day 4.
    resolve(first, at=T0 + 4 * DAY)
    new = complaint_at(T0 + 2 * DAY, product_model=product.model)
    assert new.repeat_of is None


def test_an_invalid_earlier_complaint_is_ignored(complaint_at, agent, product):
    first = complaint_at(T0, product_model=product.model)
    # Resolved once, then (as data allows) marked invalid: it was never a complaint.
    Complaint.objects.filter(pk=first.pk).update(status=Status.INVALID, resolved_at=T0 + DAY)
    assert complaint_at(T0 + 3 * DAY, product_model=product.model).repeat_of is None


def test_the_most_recently_resolved_earlier_complaint_is_linked(complaint_at, resolve, product):
    resolve(complaint_at(T0, product_model=product.model), at=T0 + DAY)
    second = resolve(complaint_at(T0 + 2 * DAY, product_model=product.model), at=T0 + 5 * DAY)

    new = complaint_at(T0 + 9 * DAY, product_model=product.model)

    assert new.repeat_of == second
    assert "resolved 4 days earlier" in new.repeat_reason


def test_a_reopen_is_never_a_repeat(earlier, agent):
    with_lock = Complaint.objects.get(pk=earlier.pk)
    transition_apply(
        locked=with_lock,
        transition=TRANSITIONS["reopen"],
        actor=agent,
        via="desk",
        now=T0 + 10 * DAY,
        data={"reason": "lamp still flickers"},
        values={},
    )

    earlier.refresh_from_db()
    assert earlier.status == Status.REOPENED
    assert earlier.repeat_of is None
    assert earlier.repeat_reason == ""
    assert not Event.objects.filter(action__in=["repeat_detected", "repeat_linked"]).exists()
    assert Complaint.objects.filter(customer=earlier.customer).count() == 1


def test_detect_repeat_is_one_query(earlier, complaint_at, product, django_assert_num_queries):
    new = complaint_at(T0 + 40 * DAY, product_model=product.model)
    with django_assert_num_queries(1):
        assert repeats.detect_repeat(complaint=new) == earlier


def test_detect_repeat_without_a_product_needs_no_query(complaint_at, django_assert_num_queries):
    new = complaint_at(T0)
    with django_assert_num_queries(0):
        assert repeats.detect_repeat(complaint=new) is None


def test_intake_costs_at_most_one_more_query(monkeypatch, complaint_at, product, count_queries):
    """Measured against intake with detection switched off; the returning customer is the same."""
    complaint_at(T0, product_model=product.model)  # customer exists, reference caches warm
    with count_queries() as with_detection:
        complaint_at(T0 + DAY, product_model=product.model)
    monkeypatch.setattr(repeats, "detect_repeat", lambda *, complaint: None)
    with count_queries() as without_detection:
        complaint_at(T0 + 2 * DAY, product_model=product.model)
    assert with_detection.count - without_detection.count <= 1


def test_phone_fixture_shares_the_customer(complaint_at):
    a, b = complaint_at(T0), complaint_at(T0 + DAY)
    assert a.customer_id == b.customer_id
    assert a.customer.phone == PHONE
