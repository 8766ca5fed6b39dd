"""Merging duplicates: the duplicate is marked duplicate of the target through the lifecycle, and the
target's timeline shows both histories."""

from __future__ import annotations

import datetime
import io

import pytest

from closeloop.complaints.lifecycle import Status
from closeloop.complaints.models import Event
from closeloop.complaints.presentation import timeline_rows
from closeloop.complaints.selectors import complaint_timeline
from closeloop.complaints.services import AttachmentUpload, complaint_attach, complaint_transition
from closeloop.core.errors import DomainError, PermissionDeniedError
from closeloop.followup.services.repeats import complaint_merge
from tests.followup.repeats.conftest import T0

DAY = datetime.timedelta(days=1)
pytestmark = pytest.mark.django_db


@pytest.fixture
def twins(complaint_at):
    """The same complaint registered twice (hotline, then the web form)."""
    return complaint_at(T0), complaint_at(T0 + datetime.timedelta(hours=2), channel="web")


def test_merge_marks_the_duplicate_and_records_both_sides(twins, agent):
    into, duplicate = twins

    complaint_merge(duplicate=duplicate, into=into, reason="same call twice", actor=agent, via="desk", now=T0 + DAY)

    duplicate.refresh_from_db()
    assert duplicate.status == Status.DUPLICATE
    assert duplicate.duplicate_of == into
    assert duplicate.status_reason == "same call twice"
    assert Event.objects.get(complaint=duplicate, action="merged_into").after == {"into": into.number}
    assert Event.objects.get(complaint=into, action="merged").after == {"duplicate": duplicate.number}
    assert Event.objects.filter(complaint=duplicate, action="mark_duplicate").exists()
    # The duplicate's clocks stop: only the target is worked on.
    assert not duplicate.deadlines.filter(met_at__isnull=True).exists()


def test_the_targets_timeline_has_both_histories(twins, agent, django_assert_num_queries):
    into, duplicate = twins
    complaint_merge(duplicate=duplicate, into=into, reason="same call twice", actor=agent, via="desk", now=T0 + DAY)

    with django_assert_num_queries(1):
        events = list(complaint_timeline(complaint=into))
    assert {e.complaint_id for e in events} == {into.pk, duplicate.pk}
    assert next(e.action for e in events if e.complaint_id == duplicate.pk) == "registered"
    rows = timeline_rows(events, into)
    assert {r.complaint_number for r in rows} == {"", duplicate.number}
    assert all(r.complaint_number == "" for r, e in zip(rows, events, strict=True) if e.complaint_id == into.pk)
    # The duplicate's own timeline is only its own.
    assert {e.complaint_id for e in complaint_timeline(complaint=duplicate)} == {duplicate.pk}


def test_a_complaint_cannot_be_merged_into_itself(twins, agent):
    with pytest.raises(DomainError, match="itself") as exc:
        complaint_merge(duplicate=twins[0], into=twins[0], reason="x", actor=agent, via="desk")
    assert exc.value.field == "duplicate"


def test_merge_needs_a_reason_and_a_desk_role(twins, agent, handler):
    into, duplicate = twins
    with pytest.raises(DomainError) as exc:
        complaint_merge(duplicate=duplicate, into=into, reason=" ", actor=agent, via="desk")
    assert exc.value.field == "reason"
    with pytest.raises(PermissionDeniedError):
        complaint_merge(duplicate=duplicate, into=into, reason="same", actor=handler, via="desk")
    duplicate.refresh_from_db()
    assert duplicate.status == Status.REGISTERED


def test_a_resolved_complaint_cannot_be_merged_away(twins, agent, resolve):
    into, duplicate = twins
    resolve(duplicate, at=T0 + DAY)
    with pytest.raises(DomainError, match="not yet dispatched") as exc:
        complaint_merge(duplicate=duplicate, into=into, reason="same", actor=agent, via="desk")
    assert exc.value.field == "duplicate"
    assert not Event.objects.filter(action__in=["merged", "merged_into"]).exists()


def test_cannot_merge_into_an_invalid_or_merged_complaint(twins, complaint_at, agent):
    into, duplicate = twins
    complaint_transition(complaint=into, action="invalidate", actor=agent, via="desk", data={"reason": "spam"})
    into.refresh_from_db()
    with pytest.raises(DomainError, match="merge into the complaint that is being handled"):
        complaint_merge(duplicate=duplicate, into=into, reason="same", actor=agent, via="desk")


def test_a_merge_that_fails_writes_nothing(twins, agent):
    """The target turned invalid after it was read: the lock sees it, the transition rolls back."""
    into, duplicate = twins
    complaint_transition(complaint=into, action="invalidate", actor=agent, via="desk", data={"reason": "spam"})
    # `into` is the stale instance, still registered in memory.
    with pytest.raises(DomainError):
        complaint_merge(duplicate=duplicate, into=into, reason="same", actor=agent, via="desk")
    duplicate.refresh_from_db()
    assert duplicate.status == Status.REGISTERED
    assert not Event.objects.filter(complaint=duplicate, action="mark_duplicate").exists()


def test_the_duplicates_attachments_stay_with_it(twins, agent):
    into, duplicate = twins
    upload = AttachmentUpload(name="note.txt", file=io.BytesIO(b"photo of the lamp"), size=17, kind="other")
    complaint_attach(complaint=duplicate, upload=upload, actor=agent, via="desk")
    complaint_merge(duplicate=duplicate, into=into, reason="same", actor=agent, via="desk")
    assert duplicate.attachments.count() == 1
