"""Linking and unlinking repeats by hand: reason required, desk roles only, only to an earlier
complaint; desk and API refuse alike, field by field."""

from __future__ import annotations

import datetime

import pytest

from closeloop.complaints.models import Complaint, Event
from closeloop.core.errors import DomainError, PermissionDeniedError
from closeloop.core.roles import Role
from closeloop.followup.services.repeats import complaint_link_repeat, complaint_unlink_repeat
from tests.followup.repeats.conftest import T0

DAY = datetime.timedelta(days=1)
pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(complaint_at):
    """Two complaints of the customer, no product named: intake could not tell."""
    return complaint_at(T0), complaint_at(T0 + 20 * DAY)


def test_agent_links_with_a_reason(pair, agent):
    first, second = pair

    complaint_link_repeat(complaint=second, earlier=first, reason="same lamp, new number", actor=agent, via="desk")

    second.refresh_from_db()
    assert second.repeat_of == first
    assert second.repeat_reason == "same lamp, new number"
    event = Event.objects.get(complaint=second, action="repeat_linked")
    assert (event.before, event.after, event.note) == (
        {"repeat_of": None},
        {"repeat_of": first.number},
        "same lamp, new number",
    )


def test_supervisor_unlinks_with_a_reason(pair, agent, supervisor):
    first, second = pair
    complaint_link_repeat(complaint=second, earlier=first, reason="same lamp", actor=agent, via="desk")

    complaint_unlink_repeat(complaint=second, reason="another fault entirely", actor=supervisor, via="desk")

    second.refresh_from_db()
    assert second.repeat_of is None and second.repeat_reason == ""
    event = Event.objects.get(complaint=second, action="repeat_unlinked")
    assert event.before == {"repeat_of": first.number, "repeat_reason": "same lamp"}
    assert event.note == "another fault entirely"


def test_unlinking_a_complaint_that_is_no_repeat_is_refused(pair, agent):
    with pytest.raises(DomainError, match="not marked as a repeat"):
        complaint_unlink_repeat(complaint=pair[1], reason="x", actor=agent, via="desk")


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reason_is_required(pair, agent, reason):
    first, second = pair
    with pytest.raises(DomainError) as exc:
        complaint_link_repeat(complaint=second, earlier=first, reason=reason, actor=agent, via="desk")
    assert exc.value.field == "reason"
    with pytest.raises(DomainError) as exc:
        complaint_unlink_repeat(complaint=second, reason=reason, actor=agent, via="desk")
    assert exc.value.field == "reason"
    assert Complaint.objects.get(pk=second.pk).repeat_of is None


@pytest.mark.parametrize("role", [Role.HANDLER, Role.AUDITOR])
def test_other_roles_may_not_link(pair, make_user, department, role):
    first, second = pair
    user = make_user(role, departments=[department])
    with pytest.raises(PermissionDeniedError):
        complaint_link_repeat(complaint=second, earlier=first, reason="same", actor=user, via="desk")
    assert not Event.objects.filter(action="repeat_linked").exists()


def test_a_complaint_cannot_repeat_itself(pair, agent):
    with pytest.raises(DomainError) as exc:
        complaint_link_repeat(complaint=pair[0], earlier=pair[0], reason="same", actor=agent, via="desk")
    assert exc.value.field == "earlier"


def test_a_later_complaint_cannot_be_repeated(pair, agent):
    first, second = pair
    with pytest.raises(DomainError, match="received after") as exc:
        complaint_link_repeat(complaint=first, earlier=second, reason="same", actor=agent, via="desk")
    assert exc.value.field == "earlier"
    assert Complaint.objects.get(pk=first.pk).repeat_of is None


def test_linking_again_to_the_same_complaint_changes_nothing(pair, agent):
    first, second = pair
    complaint_link_repeat(complaint=second, earlier=first, reason="same", actor=agent, via="desk")
    complaint_link_repeat(complaint=second, earlier=first, reason="same again", actor=agent, via="desk")
    assert Event.objects.filter(complaint=second, action="repeat_linked").count() == 1
