"""The lives of a defect alert and of a defect incident as tables (the mechanism: closeloop/core/lifecycle.py).

An alert is raised open by the spike check (services/spikes.py); quality dismisses it or opens (or
links it to) an incident. An incident is open until a remedy is applied to its complaints, and is
closed with a note; a remedy may be applied again while it is not closed.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from closeloop.core.errors import DomainError, TransitionNotAllowed
from closeloop.core.lifecycle import Lifecycle, Transition, register
from closeloop.defects.models import AlertStatus, IncidentStatus
from closeloop.defects.services.common import LIVE_INCIDENT, may_manage

_DENIED = _("Only quality may act on defect alerts and incidents.")


def quality(user: Any, alert_or_incident: Any) -> bool:
    """Quality (the permission to manage defects) acts on every alert and incident alike."""
    return may_manage(user)


def _alert_not_open(alert: Any, transition: Transition) -> DomainError:
    return TransitionNotAllowed(_("Not possible: the alert is %(status)s.") % {"status": alert.get_status_display()})


def _incident_not_live(incident: Any, transition: Transition) -> DomainError:
    return TransitionNotAllowed(
        _("Not possible: the incident is %(status)s.") % {"status": incident.get_status_display()}
    )


ALERT_LIFECYCLE = register(
    Lifecycle(
        name="defect_alert",
        title=_("Defect alert"),
        model="defects.DefectAlert",
        states=AlertStatus,
        wrong_state=_alert_not_open,
        transitions=(
            Transition(
                action="dismiss",
                label=_("Dismiss"),
                sources=frozenset({AlertStatus.OPEN}),
                target=AlertStatus.DISMISSED,
                allowed=quality,
                denied=_DENIED,
                required=("reason",),
                service="closeloop.defects.services.incidents.alert_dismiss",
            ),
            Transition(
                action="open_incident",
                label=_("Open an incident"),
                sources=frozenset({AlertStatus.OPEN}),
                target=AlertStatus.INCIDENT,
                allowed=quality,
                denied=_DENIED,
                required=("title",),
                service="closeloop.defects.services.incidents.alert_open_incident",
            ),
            Transition(
                action="link_incident",
                label=_("Link to an open incident"),
                sources=frozenset({AlertStatus.OPEN}),
                target=AlertStatus.INCIDENT,
                allowed=quality,
                denied=_DENIED,
                required=("incident",),
                service="closeloop.defects.services.incidents.alert_link_incident",
            ),
        ),
    )
)

INCIDENT_LIFECYCLE = register(
    Lifecycle(
        name="defect_incident",
        title=_("Defect incident"),
        model="defects.DefectIncident",
        states=IncidentStatus,
        wrong_state=_incident_not_live,
        transitions=(
            Transition(
                action="apply_remedy",
                label=_("Apply a remedy to every complaint"),
                sources=frozenset(LIVE_INCIDENT),
                target=IncidentStatus.REMEDIED,
                allowed=quality,
                denied=_DENIED,
                required=("remedy", "measure"),
                service="closeloop.defects.services.incidents.incident_apply_remedy",
            ),
            Transition(
                action="close",
                label=_("Close"),
                sources=frozenset(LIVE_INCIDENT),
                target=IncidentStatus.CLOSED,
                allowed=quality,
                denied=_DENIED,
                required=("note",),
                service="closeloop.defects.services.incidents.incident_close",
            ),
        ),
    )
)
