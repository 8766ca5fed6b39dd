"""Hooks the safety-hazard check to intake: right after the intake transaction commits, in the same
process, the complaint's words are read against its line's lexicon and then, when no word is affirmed, by
the learned hazard model (both cached per process: no query, and the complaint is the instance intake
just wrote; the model costs a fraction of a millisecond — measured in docs/decisions.md, issue 19). Only
a hazard writes (closeloop/triage/hazards.py). Every intake path (desk, portal, API, e-mail, service
order) registers through `complaint_register`, which sends `complaint_registered` on commit."""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import receiver

from closeloop.complaints.signals import complaint_registered, registration_form_submitted

log = logging.getLogger(__name__)


@receiver(complaint_registered, dispatch_uid="triage.hazard_check")
def hazard_check_on_intake(sender: Any, complaint: Any, **kwargs: Any) -> None:
    from closeloop.triage.hazards import complaint_text, hazard_assess, hazard_flag

    product = getattr(complaint, "product", None)
    try:
        finding = hazard_assess(text=complaint_text(complaint), line_id=product.line_id if product else None)
        if finding is not None:
            hazard_flag(complaint=complaint, words=finding.words, source=finding.source)
    except Exception:  # the intake has committed and must not fail now: the catch-up (tasks.py) finds it
        log.warning("could not check complaint %s for a safety hazard", complaint.pk, exc_info=True)


@receiver(registration_form_submitted, dispatch_uid="triage.suggestion_outcomes")
def suggestion_outcomes_on_registration(sender: Any, complaint: Any, user: Any, data: Any, **kwargs: Any) -> None:
    """The suggestions the form showed (its hidden triage-offered-* fields) against what was registered."""
    from closeloop.triage.services import OUTCOME_FIELDS, Offered, suggestion_outcomes_record

    offered = [Offered(name, str(data.get(f"triage-offered-{name}", ""))[:60]) for name in OUTCOME_FIELDS]
    offered = [o for o in offered if o.suggested]
    if not offered:
        return
    version = str(data.get("triage-version", ""))
    suggestion_outcomes_record(
        complaint=complaint, offered=offered, user=user, model_version=int(version) if version.isdigit() else None
    )
