"""Request and response shapes of the complaints API, one schema per use case."""

from __future__ import annotations

import datetime
import enum
from typing import Annotated, Any, Literal

from ninja import Field
from pydantic import AfterValidator, AwareDatetime, field_validator

from closeloop.complaints.lifecycle import Status
from closeloop.complaints.models import AttachmentKind, Channel
from closeloop.complaints.selectors import SORTS
from closeloop.core.api_since import Instant
from closeloop.core.schema import Schema
from closeloop.directory.models import CustomerKind


def _no_nul(value: str) -> str:
    # PostgreSQL cannot store NUL in text; refuse it here as bad input rather than fail on save.
    if "\x00" in value:
        raise ValueError("NUL characters are not allowed")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]

EARLIEST_YEAR = 2000
# Deep offsets are slow and, past 64 bits, refused by the database; nobody pages that far.
MAX_OFFSET = 10_000_000


def text(max_length: int, default: str = "", description: str | None = None) -> Any:
    return Field(default, max_length=max_length, description=description)


class DeadlineState(enum.StrEnum):
    """How a complaint stands against its nearest open deadline (closeloop.sla.presentation.time_left)."""

    OK = "ok"
    WARNING = "warning"  # past the warning point
    BREACHED = "breached"
    PAUSED = "paused"  # waiting for the customer
    NONE = "none"  # no open deadline


class ClockState(enum.StrEnum):
    """One SLA clock: running (ok, warning, breached, paused) or ended (met, cancelled)."""

    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"
    PAUSED = "paused"
    MET = "met"
    CANCELLED = "cancelled"


# --- errors --------------------------------------------------------------------------------------


from closeloop.core.api_responses import ErrorOut, FieldErrorOut, ValidationErrorOut  # noqa: E402, F401

# --- reference data ------------------------------------------------------------------------------


class RefOut(Schema):
    code: str
    name: str = Field(description="Chinese name")
    name_en: str
    label: str = Field(description="name in the language of the request")


class ComplaintTypeOut(RefOut):
    parent: str | None = Field(description="code of the parent type")
    default_department: str | None = Field(description="code of the department proposed for this type")
    updated_at: datetime.datetime


class DepartmentOut(RefOut):
    updated_at: datetime.datetime


class ProductOut(Schema):
    model: str
    name: str
    name_en: str
    label: str
    line: str | None = Field(None, description="code of the product line")


class ProductFilters(Schema):
    q: Text = Field("", max_length=100, description="part of the model or of the name")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class CatalogueProductOut(ProductOut):
    updated_at: datetime.datetime


class ProductPage(Schema):
    items: list[CatalogueProductOut]
    count: int


# --- complaints ----------------------------------------------------------------------------------


class ComplaintCreateIn(Schema):
    """Mirrors the registration form (客户投诉登记表). Give a phone number or an e-mail address."""

    channel: Channel = Channel.API
    customer_kind: CustomerKind = CustomerKind.END_USER
    customer_name: Text = Field(..., max_length=100)
    organisation: Text = text(150)
    phone: Text = text(40, description="mainland mobile or landline with area code; +86 allowed")
    email: Text = text(254)
    address: Text = text(255)
    province: Text = text(30)
    city: Text = text(30)
    type: Text = Field(..., max_length=40, description="complaint type code, see GET /catalogue/types")
    priority: int = Field(3, ge=1, le=3, description="1 urgent, 2 important, 3 normal")
    received_at: AwareDatetime | None = Field(
        None, description="ISO 8601 with offset, e.g. 2026-11-23T09:30:00+08:00; defaults to now"
    )
    product_model: Text = text(60, description="model / SKU from GET /catalogue/products; unknown ones kept as text")
    product_text: Text = text(150, description="the product as the customer described it")
    batch_no: Text = text(60)
    purchase_date: datetime.date | None = None
    order_no: Text = text(60)
    description: Text = Field(..., max_length=10000, description="the problem in the customer's own words")
    onsite_situation: Text = text(10000)
    demand: Text = text(10000, description="what the customer asks for (诉求)")
    department: Text = text(40, description="department code; defaults to the type's department")
    external_ref: Text = text(80, description="the complaint's id in the calling system")
    recording_url: Text = text(500, description="link to the call's recording in the call-centre system; http(s) only")

    @field_validator("received_at")
    @classmethod
    def _received_this_millennium(cls, value: datetime.datetime | None) -> datetime.datetime | None:
        # Guards the conversion to UTC (year 1 with an offset overflows) and catches typos like 0202.
        if value is not None and value.year < EARLIEST_YEAR:
            raise ValueError(f"must be in {EARLIEST_YEAR} or later")
        return value


class CustomerOut(Schema):
    kind: CustomerKind
    name: str
    organisation: str
    phone: str
    email: str
    address: str
    masked: bool = Field(description="true when phone, e-mail and address are masked for this user")


class ComplaintSummaryOut(Schema):
    number: str
    status: Status
    status_label: str
    channel: Channel
    priority: int
    received_at: datetime.datetime
    registered_at: datetime.datetime
    customer: CustomerOut
    type: RefOut
    department: RefOut | None
    product: ProductOut | None
    product_text: str
    description: str
    external_ref: str
    recording_url: str = Field("", description="link to the call's recording in the call-centre system")
    next_due_at: datetime.datetime | None = Field(description="the nearest open deadline of the complaint")
    deadline_state: DeadlineState = Field(
        description="ok | warning (past the warning point) | breached | paused (waiting for the customer) | none"
    )
    waiting_since: datetime.datetime | None = Field(description="waiting for the customer since (clocks paused)")
    updated_at: datetime.datetime = Field(description="last change of the complaint's own fields")


class DeadlineOut(Schema):
    milestone: str
    task: int | None
    duration: str
    started_at: datetime.datetime
    due_at: datetime.datetime
    original_due_at: datetime.datetime | None = Field(description="before an approved postponement")
    warn_at: datetime.datetime
    met_at: datetime.datetime | None
    cancelled: bool
    paused_at: datetime.datetime | None
    warned_at: datetime.datetime | None
    breached_at: datetime.datetime | None
    escalation_level: int
    state: ClockState = Field(description="ok | warning | breached | paused | met | cancelled")


class ComplaintCreatedOut(ComplaintSummaryOut):
    deadlines: list[DeadlineOut] = Field(description="the SLA clocks started at intake")


class PriorityIn(Schema):
    priority: int = Field(ge=1, le=3)
    reason: Text = Field(min_length=1, max_length=500)


class WaitIn(Schema):
    reason: Text = Field(min_length=1, max_length=200)


class ResumeIn(Schema):
    note: Text = Field("", max_length=500)


class ComplaintPage(Schema):
    items: list[ComplaintSummaryOut]
    count: int = Field(description="How many match, counted up to QUEUE_COUNT_CAP (10,000 by default)")
    count_capped: bool = Field(False, description="True when more match than `count` says (it is the cap)")


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    kind: AttachmentKind
    paper_original_location: str
    uploaded_at: datetime.datetime


class EventOut(Schema):
    at: datetime.datetime
    action: str
    actor: str | None
    via: str
    before: dict[str, Any]
    after: dict[str, Any]
    note: str
    complaint: str | None = Field(None, description="number of the merged duplicate this event belongs to, if not ours")


class ActionOut(Schema):
    action: str
    label: str
    target: Status
    required: list[str]


class RelatedRecordOut(Schema):
    record_type: str = Field(description="service_order")
    number: str
    status: str = Field(description="its status, as a label")
    why: str


class ComplaintOut(ComplaintSummaryOut):
    batch_no: str
    purchase_date: datetime.date | None
    order_no: str
    province: str
    city: str
    onsite_situation: str
    demand: str
    acknowledged_at: datetime.datetime | None
    resolved_at: datetime.datetime | None
    resolution: str
    status_reason: str
    duplicate_of: str | None = Field(description="number of the complaint this one duplicates")
    repeat_of: str | None = Field(None, description="number of the earlier complaint this one repeats (rule 5)")
    repeat_reason: str = Field("", description="why it is a repeat")
    related_records: list[RelatedRecordOut] = Field(
        default_factory=list,
        description="recent service orders (售服单) of the same customer on the same product, those the caller "
        "may see: open, or received or resolved within REPEAT_WINDOW_DAYS",
    )
    attachments: list[AttachmentOut]
    events: list[EventOut] = Field(description="the timeline, oldest first")
    available_actions: list[ActionOut] = Field(description="what this user may do now")
    deadlines: list[DeadlineOut] = Field(description="every SLA clock of the complaint and its tasks")


class ComplaintFilters(Schema):
    status: Status | None = None
    priority: int | None = Field(None, ge=1, le=3)
    type: Text = Field("", max_length=40, description="complaint type code")
    channel: Channel | None = None
    product: Text = Field("", max_length=150, description="model (exact) or part of the product text")
    received_from: datetime.date | None = None
    received_to: datetime.date | None = None
    q: Text = Field(
        "",
        max_length=100,
        description=(
            "number, words of the description, name, batch, a whole e-mail address; a phone's last digits "
            "(roles that see personal data) or the whole number (the others: counted, at most "
            "PERSONAL_DATA_SEARCH_MAX_PER_HOUR an hour, then 429)"
        ),
    )
    external_ref: Text = Field("", max_length=80, description="the reference a source system gave (exact)")
    updated_since: Instant | None = Field(
        None, description="changed at or after this instant (`updated_at`); for a full change log use GET /events"
    )
    sort: Literal[tuple(SORTS)] = "-received_at"  # type: ignore[valid-type]  # Literal of the sort names, built at import
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


# --- call-centre screen pop -------------------------------------------------------------------------


class CustomerLookupQuery(Schema):
    phone: Text = Field(..., max_length=40, description="the caller's number as the CTI gives it; +86 allowed")


class OpenDeadlineOut(Schema):
    milestone: str
    due_at: datetime.datetime
    state: str = Field(description="ok | warning | breached | paused")


class OpenComplaintOut(Schema):
    number: str
    status: Status
    status_label: str
    priority: int
    received_at: datetime.datetime
    subject: str = Field(description="type · product · the start of the customer's words")
    next_due_at: datetime.datetime | None
    deadline_state: str
    deadlines: list[OpenDeadlineOut] = Field(description="the complaint's open SLA clocks, nearest first")


class CustomerLookupOut(Schema):
    customer: CustomerOut
    complaint_count: int = Field(description="all of the customer's complaints this user may see, open or not")
    open_complaints: list[OpenComplaintOut] = Field(description="nearest deadline first")


# --- writing to the customer -----------------------------------------------------------------------


class CustomerMessageIn(Schema):
    method: Literal["email", "sms"]
    template: Text = Field(
        "", max_length=40, description="a `write_…` message template; its text is used when `text` is empty"
    )
    subject: Text = Field("", max_length=200, description="e-mail only; defaults to the template's or the number")
    text: Text = Field("", max_length=10000, description="SMS: at most 500 characters")


class CustomerMessageOut(Schema):
    id: int
    method: str
    to: str = Field(description="the address, masked for a role without personal data")
    subject: str
    text: str
    state: str = Field(description="pending | sending | sent | failed (the outbox's delivery)")
    created_at: datetime.datetime
    updated_at: datetime.datetime
    sent_at: datetime.datetime | None
    provider_message_id: str


# --- transitions ---------------------------------------------------------------------------------


class ResolveIn(Schema):
    resolution: Text = Field(..., max_length=10000)


class ReasonIn(Schema):
    reason: Text = Field(..., max_length=10000)


class MarkDuplicateIn(Schema):
    reason: Text = Field(..., max_length=10000)
    duplicate_of: Text = Field(..., max_length=20, description="number of the complaint being handled")


class TransitionIn(Schema):
    action: Text = Field(..., max_length=40, description="an action of GET /lifecycle")
    resolution: Text | None = Field(None, max_length=10000)
    reason: Text | None = Field(None, max_length=10000)
    duplicate_of: Text | None = Field(None, max_length=20)
    note: Text | None = Field(None, max_length=10000)


# --- lifecycle -----------------------------------------------------------------------------------


class StateOut(Schema):
    code: str
    label: str
    open: bool
    terminal: bool


class RoleOut(Schema):
    code: str
    label: str


class TransitionOut(Schema):
    action: str
    label: str
    sources: list[str]
    target: str
    roles: list[str]
    required: list[str]
    style: str
    service: str = Field(description="when set, only this service performs it (it has its own endpoint)")
    allowed: str = Field("", description="when set, the rule about the object that decides who may act as well")


class LifecycleOut(Schema):
    name: str = "complaint"
    title: str = ""
    states: list[StateOut]
    roles: list[RoleOut]
    transitions: list[TransitionOut]


class LifecycleSummaryOut(Schema):
    name: str
    title: str
    model: str
    status_field: str


class SavedViewOut(Schema):
    id: int
    name: str
    query: str = Field(description="the queue's filters as a query string, e.g. status=acknowledged&priority=1")
    shared: bool = Field(description="shared with everyone (managed by CS supervisors)")
    mine: bool = Field(description="the caller owns it")


class SavedViewIn(Schema):
    name: Text = Field(min_length=1, max_length=60)
    query: Text = Field(
        default="",
        max_length=2000,
        description="the queue's filters as a query string (q, status, priority, type, channel, product, "
        "received_from, received_to, due, sort); other keys are dropped",
    )
    shared: bool = Field(default=False, description="share with everyone: CS supervisors only")
