"""REST endpoints of triage: suggestions for a complaint's words, the outcome of suggestions at
registration, retraining on demand, the models, and the month's safety hazards — thin calls of the
same services and selectors as the desk."""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Status

from closeloop import authz
from closeloop.complaints.models import Complaint
from closeloop.complaints.schemas import Text
from closeloop.complaints.selectors import complaint_get
from closeloop.core.api_responses import ONE_WRITE_ERRORS, READ_ERRORS, WRITE_ERRORS
from closeloop.core.api_since import UpdatedSince, updated_since
from closeloop.core.errors import DomainError
from closeloop.core.schema import Schema
from closeloop.core.types import User
from closeloop.triage import selectors, services
from closeloop.triage.suggest import triage_suggest

router = Router(tags=["triage"])


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]  # the user, put there by the API's authentication


class SuggestIn(Schema):
    description: Text = Field(max_length=5000, description="the customer's own words")
    product_text: Text = Field("", max_length=150, description="the product as described, if any")


class FieldSuggestionOut(Schema):
    value: str = Field(description="a type or department code, a priority rank (1 urgent … 3 normal), a model")
    label: str
    confidence: float = Field(description="0 to 1")
    words: list[str] = Field(description="the words of the text that drove the suggestion")
    source: str = Field(description="model (learned from the history), rules (cold start) or text (named in it)")


class SuggestionsOut(Schema):
    type: FieldSuggestionOut | None
    department: FieldSuggestionOut | None
    priority: FieldSuggestionOut | None
    product: FieldSuggestionOut | None
    product_line: FieldSuggestionOut | None
    hazard_words: list[str] = Field(
        description="the words that make it a safety hazard: lexicon words the text affirms (negated ones left "
        "out), or the words that drove the learned hazard model"
    )
    hazard_source: str = Field(description="lexicon, model (the learned hazard model) or empty: no hazard")
    model_version: int | None = Field(description="the model version that answered; null: rules (cold start)")


class OfferedIn(Schema):
    type: Text = Field("", max_length=60)
    department: Text = Field("", max_length=60)
    priority: Text = Field("", max_length=2)
    product: Text = Field("", max_length=60)


class OutcomeIn(Schema):
    complaint: Text = Field(max_length=20, description="the number of the complaint registered")
    suggested: OfferedIn = Field(description="what the suggestions offered when it was registered")
    model_version: int | None = None


class OutcomeOut(Schema):
    field: str
    suggested: str
    chosen: str
    accepted: bool


class TriageModelOut(Schema):
    version: int
    trained_at: datetime.datetime
    samples: int
    seconds: float
    scores: dict[str, float] = Field(description="accuracy per field on the held-out tenth of the history")


class AcceptanceOut(Schema):
    field: str
    offered: int
    accepted: int
    rate: float


class TriageStatsOut(Schema):
    models: list[TriageModelOut]
    acceptance: list[AcceptanceOut] = Field(description="the last 30 days")


class QueuedOut(Schema):
    detail: str


class HazardOut(Schema):
    complaint: str
    flagged_at: datetime.datetime
    words: list[str]
    source: str = Field(description="lexicon or model")
    escalated: bool = Field(description="made urgent by the flag (false: it already was, or was not open)")
    product_model: str
    product_line: str
    province: str
    city: str
    updated_at: datetime.datetime = Field(description="a flag is never changed: the time it was raised")


class HazardFilters(Schema):
    month: Text = Field("", pattern=r"^(\d{4}-\d{2})?$", description="YYYY-MM; empty: this month")


@router.post(
    "/triage/suggest",
    response={200: SuggestionsOut, **WRITE_ERRORS},
    summary="Suggested type, department, priority and product for a complaint's words",
)
def suggest(request: HttpRequest, payload: SuggestIn) -> dict[str, Any]:
    """Suggestions only: nothing is written. From the model learned from closed complaints, or from rules
    and the roster while the history is short. Each suggestion names the words that drove it."""
    authz.require(_user(request), "triage.ask_suggestions")
    return triage_suggest(description=payload.description, product_text=payload.product_text).as_dict()


@router.post(
    "/triage/outcomes",
    response={201: list[OutcomeOut], **ONE_WRITE_ERRORS},
    summary="Record what was done with the suggestions for a registered complaint",
)
def outcome_create(request: HttpRequest, payload: OutcomeIn) -> Status:
    """Each suggested field is compared with what the complaint was registered with: accepted or
    overridden. The acceptance rate is shown to administrators."""
    user = _user(request)
    authz.require(user, "triage.ask_suggestions")
    try:
        complaint = complaint_get(user=user, number=payload.complaint.strip().upper())
    except Complaint.DoesNotExist:
        raise DomainError(_("There is no complaint with this number."), field="complaint") from None
    offered = [services.Offered(name, value) for name, value in payload.suggested.dict().items() if value]
    rows = services.suggestion_outcomes_record(
        complaint=complaint, offered=offered, user=user, model_version=payload.model_version
    )
    return Status(
        201, [{"field": r.field, "suggested": r.suggested, "chosen": r.chosen, "accepted": r.accepted} for r in rows]
    )


@router.post(
    "/triage/retrain",
    response={202: QueuedOut, **WRITE_ERRORS},
    summary="Train a new triage model version now (administrators)",
)
def retrain(request: HttpRequest) -> Status:
    """The worker trains a new version from the closed complaints; the suggestions use it within seconds."""
    services.triage_retrain_request(actor=_user(request))
    return Status(202, {"detail": str(_("A new triage model is being trained."))})


@router.get(
    "/triage/stats",
    response={200: TriageStatsOut, **READ_ERRORS},
    summary="Triage models and how often suggestions were accepted (administrators)",
)
def stats(request: HttpRequest) -> dict[str, Any]:
    """The latest model versions with their held-out accuracy, and per field the suggestions offered in
    the last 30 days and how many the agents accepted."""
    authz.require(_user(request), "triage.retrain_model")
    return {
        "models": [
            {
                "version": m.version,
                "trained_at": m.trained_at,
                "samples": m.samples,
                "seconds": m.seconds,
                "scores": m.scores,
            }
            for m in selectors.models_recent()
        ],
        "acceptance": [
            {"field": a.field, "offered": a.offered, "accepted": a.accepted, "rate": round(a.rate, 3)}
            for a in selectors.acceptance()
        ],
    }


@router.get(
    "/triage/hazards",
    response={200: list[HazardOut], **READ_ERRORS},
    summary="The month's safety hazards (the basis of a recall decision)",
)
def hazard_list(
    request: HttpRequest, filters: Query[HazardFilters], since: Query[UpdatedSince]
) -> list[dict[str, Any]]:
    """Every complaint flagged as a safety hazard in the month, newest first, with the words that flagged
    it. No personal data."""
    authz.require(_user(request), "triage.view_hazards")
    month = filters.month or selectors.this_month()
    try:
        flags = list(updated_since(selectors.hazards_of_month(month=month), since, field="flagged_at"))
    except ValueError:
        raise DomainError(_("Give the month as YYYY-MM."), field="month") from None
    return [
        {
            "complaint": f.complaint.number,
            "flagged_at": f.flagged_at,
            "updated_at": f.flagged_at,
            "words": f.words,
            "source": f.source,
            "escalated": f.escalated,
            "product_model": f.complaint.product.model if f.complaint.product else "",
            "product_line": f.complaint.product.line.code if f.complaint.product and f.complaint.product.line else "",
            "province": f.complaint.province,
            "city": f.complaint.city,
        }
        for f in flags
    ]
