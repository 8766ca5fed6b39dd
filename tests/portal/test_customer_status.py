from __future__ import annotations

from django.utils import translation

from closeloop.complaints.lifecycle import Status
from closeloop.portal.customer_status import CUSTOMER_STATUSES, customer_status


def test_every_lifecycle_state_has_plain_words_for_the_customer() -> None:
    assert set(Status.values) <= set(CUSTOMER_STATUSES)


@translation.override("en")
def test_plain_words() -> None:
    assert str(customer_status(Status.REGISTERED).label) == "We have received your complaint"
    assert str(customer_status(Status.ACKNOWLEDGED).label) == "We are working on it"
    assert str(customer_status(Status.RESOLVED).label) == "Resolved"
    assert str(customer_status(Status.INVALID).label) == str(customer_status(Status.DUPLICATE).label) == "Closed"


@translation.override("en")
def test_an_unmapped_state_reads_as_work_in_progress() -> None:
    assert str(customer_status("some_future_state").label) == "We are working on it"
