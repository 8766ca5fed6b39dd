"""Every event table refuses to change or lose a stored row (closeloop/core/events.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.apps import apps

from closeloop.complaints.models import Complaint, Event
from closeloop.core.events import AppendOnlyError, AppendOnlyModel

EVENT_TABLES = {
    "accounts.SecurityEvent",
    "complaints.Event",
    "complaints.PersonalDataAccess",
    "defects.IncidentEvent",
    "directory.RosterChange",
    "improvement.ActionEvent",
    "insight.ReportStep",
    "serviceorders.ServiceEvent",
    "sla.PolicyChange",
    "triage.HazardFlag",
    "triage.SuggestionOutcome",
    "triage.TriageModel",
}


def test_every_event_table_is_append_only() -> None:
    append_only = {m._meta.label for m in apps.get_models() if issubclass(m, AppendOnlyModel)}
    assert append_only == EVENT_TABLES


@pytest.mark.parametrize("label", sorted(EVENT_TABLES))
def test_a_stored_row_is_neither_saved_again_nor_deleted(label: str) -> None:
    row = apps.get_model(label)(pk=1)  # refused before any query: no database needed
    with pytest.raises(AppendOnlyError):
        row.save()
    with pytest.raises(AppendOnlyError):
        row.delete()


@pytest.mark.django_db
def test_a_complaint_event_stays_as_written(make_complaint: Callable[..., Complaint]) -> None:
    event = make_complaint().events.get(action="registered")
    event.note = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert Event.objects.get(pk=event.pk).note == ""
