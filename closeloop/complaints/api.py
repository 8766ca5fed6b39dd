"""Complaints over REST: thin endpoints over services (writes) and selectors (reads).

Errors are not handled here: services raise DomainError & co. and `closeloop.api` turns them into
responses in one place.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Form, P, PathEx, Query, Router, Status, UploadedFile

from closeloop.complaints import customer_messages, repeats, saved_views, selectors, services
from closeloop.complaints.lifecycle import LIFECYCLE
from closeloop.complaints.lifecycle import Status as ComplaintStatus
from closeloop.complaints.models import AttachmentKind, Complaint, SavedView, Via
from closeloop.complaints.presentation import contact_masked_in
from closeloop.complaints.schemas import (
    AttachmentOut,
    ComplaintCreatedOut,
    ComplaintCreateIn,
    ComplaintFilters,
    ComplaintOut,
    ComplaintPage,
    ComplaintTypeOut,
    CustomerLookupOut,
    CustomerLookupQuery,
    CustomerMessageIn,
    CustomerMessageOut,
    DepartmentOut,
    LifecycleOut,
    LifecycleSummaryOut,
    MarkDuplicateIn,
    PriorityIn,
    ProductFilters,
    ProductPage,
    ReasonIn,
    ResolveIn,
    ResumeIn,
    SavedViewIn,
    SavedViewOut,
    Text,
    TransitionIn,
    WaitIn,
)
from closeloop.core.api_since import UpdatedSince, updated_since
from closeloop.core.errors import DomainError, PermissionDeniedError
from closeloop.core.lifecycle import lifecycle_get, lifecycles
from closeloop.core.masking import can_see_personal_data, mask_email, mask_phone
from closeloop.core.roles import ROLE_LABELS
from closeloop.core.types import User
from closeloop.directory.models import ComplaintType, Customer, Department, Product
from closeloop.notifications.models import Method, Notification
from closeloop.sla.models import Deadline
from closeloop.sla.presentation import deadline_state, time_left

router = Router(tags=["complaints"])
catalogue_router = Router(tags=["catalogue"])

# Every endpoint may answer these; declared so that the OpenAPI document tells the whole truth.
from closeloop.core.api_responses import (  # noqa: E402
    ONE_ERRORS,
    ONE_WRITE_ERRORS,
    READ_ERRORS,
    WRITE_ERRORS,
    ErrorOut,
    ValidationErrorOut,
)

# The complaint's number in a path, e.g. TS20261123-0007.
Number = PathEx[Text, P(max_length=20, description="the complaint's number, e.g. TS20261123-0007")]


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]  # the user, put there by the API's authentication


# --- serialisation -------------------------------------------------------------------------------


def _ref(row: Any) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"code": row.code, "name": row.name, "name_en": row.name_en, "label": row.label}


def _product(product: Product | None, *, with_line: bool = False) -> dict[str, Any] | None:
    if product is None:
        return None
    out = {"model": product.model, "name": product.name, "name_en": product.name_en, "label": product.label}
    if with_line:
        out["line"] = product.line.code
    return out


def _customer(customer: Customer, user: User) -> dict[str, Any]:
    contact = selectors.customer_contact(customer=customer, user=user)
    return {
        "kind": customer.kind,
        "name": contact.name,
        "organisation": customer.organisation,
        "phone": contact.phone,
        "email": contact.email,
        "address": contact.address,
        "masked": contact.masked,
    }


def _summary(complaint: Complaint, user: User) -> dict[str, Any]:
    return {
        "number": complaint.number,
        "status": complaint.status,
        "status_label": str(ComplaintStatus(complaint.status).label),
        "channel": complaint.channel,
        "priority": complaint.priority,
        "received_at": complaint.received_at,
        "registered_at": complaint.registered_at,
        "customer": _customer(complaint.customer, user),
        "type": _ref(complaint.type),
        "department": _ref(complaint.department),
        "product": _product(complaint.product),
        "product_text": complaint.product_text,
        "description": complaint.description,
        "external_ref": complaint.external_ref,
        "recording_url": complaint.recording_url,
        "next_due_at": complaint.next_due_at,
        "deadline_state": time_left(
            due_at=complaint.next_due_at, warn_at=complaint.next_warn_at, paused=complaint.waiting_since is not None
        ).state,
        "waiting_since": complaint.waiting_since,
        "updated_at": complaint.updated_at,
    }


def _deadline(deadline: Deadline) -> dict[str, Any]:
    state = deadline_state(
        due_at=deadline.due_at,
        warn_at=deadline.warn_at,
        met_at=deadline.met_at,
        cancelled=deadline.cancelled,
        paused=deadline.paused_at is not None,
    )
    return {
        "milestone": deadline.milestone,
        "task": deadline.task_id,
        "duration": deadline.duration,
        "started_at": deadline.started_at,
        "due_at": deadline.due_at,
        "original_due_at": deadline.original_due_at,
        "warn_at": deadline.warn_at,
        "met_at": deadline.met_at,
        "cancelled": deadline.cancelled,
        "paused_at": deadline.paused_at,
        "warned_at": deadline.warned_at,
        "breached_at": deadline.breached_at,
        "escalation_level": deadline.escalation_level,
        "state": state,
    }


def _detail(complaint: Complaint, user: User) -> dict[str, Any]:
    events = selectors.complaint_timeline(complaint=complaint)
    contact = selectors.customer_contact(customer=complaint.customer, user=user)
    # What the caller may do now (role, state and guards), performed by the generic endpoint.
    actions = [t for t in LIFECYCLE.offered(complaint, user) if not t.service]
    return {
        **_summary(complaint, user),
        "product": _product(complaint.product, with_line=True),
        "batch_no": complaint.batch_no,
        "purchase_date": complaint.purchase_date,
        "order_no": complaint.order_no,
        "province": complaint.province,
        "city": complaint.city,
        "onsite_situation": complaint.onsite_situation,
        "demand": complaint.demand,
        "acknowledged_at": complaint.acknowledged_at,
        "resolved_at": complaint.resolved_at,
        "resolution": complaint.resolution,
        "status_reason": complaint.status_reason,
        "duplicate_of": complaint.duplicate_of.number if complaint.duplicate_of else None,
        "repeat_of": complaint.repeat_of.number if complaint.repeat_of else None,
        "repeat_reason": complaint.repeat_reason,
        "related_records": [
            {"record_type": r.record_type, "number": r.number, "status": r.status, "why": r.why}
            for r in repeats.related_records(complaint=complaint, user=user)
        ],
        "attachments": [_attachment(a) for a in complaint.attachments.order_by("uploaded_at", "id")],
        "events": [
            {
                "at": e.at,
                "action": e.action,
                "actor": e.actor.get_username() if e.actor is not None else None,
                "via": e.via,
                "before": e.before,
                "after": e.after,
                "note": contact_masked_in(e.note, customer=complaint.customer, contact=contact),
                # Set for the events of a duplicate merged into this complaint.
                "complaint": getattr(e, "complaint_number", None) if e.complaint_id != complaint.pk else None,
            }
            for e in events
        ],
        "available_actions": [
            {"action": t.action, "label": str(t.label), "target": t.target, "required": list(t.required)}
            for t in actions
        ],
        "deadlines": [_deadline(d) for d in selectors.complaint_deadlines(complaint=complaint)],
    }


def _attachment(attachment: Any) -> dict[str, Any]:
    return {
        "id": attachment.pk,
        "name": attachment.original_name,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "kind": attachment.kind,
        "paper_original_location": attachment.paper_original_location,
        "uploaded_at": attachment.uploaded_at,
    }


def _complaint_response(request: HttpRequest, number: Number) -> dict[str, Any]:
    """One complaint as this user may see it; an unmasked view is logged."""
    user = _user(request)
    complaint = selectors.complaint_get(user=user, number=number)
    body = _detail(complaint, user)
    services.personal_data_access_record(user=user, complaints=[complaint], where="api")
    return body


def _complaint_by_number(user: User, number: str | None, *, field: str) -> Complaint | None:
    """A complaint named in a request body: an unknown (or invisible) number is bad input, not a 404."""
    if not number:
        return None
    try:
        return selectors.complaint_get(user=user, number=number.strip())
    except Complaint.DoesNotExist:
        raise DomainError(_("There is no complaint with this number."), field=field) from None


# --- complaints ----------------------------------------------------------------------------------


@router.post(
    "/complaints",
    response={201: ComplaintCreatedOut, 200: ComplaintCreatedOut, 409: ValidationErrorOut, **WRITE_ERRORS},
    summary="Register a complaint",
)
def complaint_create(request: HttpRequest, payload: ComplaintCreateIn) -> Status:
    """201 with the new complaint; 200 with the complaint registered before when the same channel already
    sent this `external_ref` (a retry, or the same ticket twice). With an `Idempotency-Key` a retry gets
    the first answer again (409 while the first request still runs)."""
    user = _user(request)
    if not user.has_perm("complaints.register_complaint"):
        raise PermissionDeniedError(_("You may not register complaints."))
    data = services.IntakeData(
        channel=payload.channel.value,
        customer_kind=payload.customer_kind.value,
        customer_name=payload.customer_name,
        organisation=payload.organisation,
        phone=payload.phone,
        email=payload.email,
        address=payload.address,
        province=payload.province,
        city=payload.city,
        type_code=payload.type,
        priority=payload.priority,
        received_at=payload.received_at,
        product_model=payload.product_model,
        product_text=payload.product_text,
        batch_no=payload.batch_no,
        purchase_date=payload.purchase_date,
        order_no=payload.order_no,
        description=payload.description,
        onsite_situation=payload.onsite_situation,
        demand=payload.demand,
        department_code=payload.department,
        external_ref=payload.external_ref,
        recording_url=payload.recording_url,
    )
    # One transaction for the intake and the log of the unmasked data it returns.
    complaint, created = services.complaint_register_once(data=data, actor=user, via=Via.API, log_access="api")
    if not created:  # the source system sent this external_ref before: the complaint it made
        services.personal_data_access_record(user=user, complaints=[complaint], where="api")
    # The summary is built from the objects intake just wrote (no re-read); GET /complaints/{number}
    # gives the full record with its timeline.
    body = {**_summary(complaint, user), "deadlines": [_deadline(d) for d in complaint.deadlines.all()]}
    return Status(201 if created else 200, body)


@router.get("/complaints", response={200: ComplaintPage, 429: ErrorOut, **READ_ERRORS}, summary="The queue, filtered")
def complaint_list(request: HttpRequest, filters: Query[ComplaintFilters]) -> dict[str, Any]:
    """A role that sees personal data masked finds a phone or e-mail only by the whole of it, and such
    searches are counted (429 beyond PERSONAL_DATA_SEARCH_MAX_PER_HOUR) and logged."""
    user = _user(request)
    services.contact_search_admit(user=user, term=filters.q, where="api search")
    queue_filters = selectors.QueueFilters(
        status=filters.status.value if filters.status else "",
        priority=filters.priority,
        type_code=filters.type,
        channel=filters.channel.value if filters.channel else "",
        product=filters.product,
        received_from=filters.received_from,
        received_to=filters.received_to,
        q=filters.q,
        sort=filters.sort,
        external_ref=filters.external_ref,
        updated_since=filters.updated_since,
    )
    queryset = selectors.complaint_queue(user=user, filters=queue_filters)
    page = selectors.queue_page(queryset, filters.offset, filters.offset + filters.limit)
    count, capped = selectors.queue_count(queryset)
    # One insert for the whole page, however long.
    services.personal_data_access_record(user=user, complaints=page, where="api_list")
    return {"items": [_summary(c, user) for c in page], "count": count, "count_capped": capped}


@router.get("/complaints/{number}", response={200: ComplaintOut, **ONE_ERRORS}, summary="One complaint")
def complaint_retrieve(request: HttpRequest, number: Number) -> dict[str, Any]:
    """The complaint with its customer (masked for roles without personal data), attachments, timeline
    (`events`, oldest first), every SLA clock (`deadlines`) and what this user may do now
    (`available_actions`). An unmasked answer is recorded as a personal-data access."""
    return _complaint_response(request, number)


@router.post(
    "/complaints/{number}/attachments",
    response={201: AttachmentOut, **ONE_WRITE_ERRORS},
    summary="Add a file (photo, scan, screenshot) to a complaint",
)
def complaint_attachment_add(
    request: HttpRequest,
    number: Number,
    file: File[UploadedFile],
    kind: Form[AttachmentKind] = AttachmentKind.PHOTO,
    paper_original_location: Form[str] = "",
) -> Status:
    """Uploads a photo, scan, screenshot or recording (multipart) to a complaint the caller may see; needs
    complaints.attach_evidence. A file of a type or size not allowed is a 422 on `file`; an archived complaint
    is a 422."""
    user = _user(request)
    complaint = selectors.complaint_get(user=user, number=number)
    upload = services.AttachmentUpload(
        name=file.name or "upload",
        file=file,
        size=file.size or 0,
        kind=kind.value,
        paper_original_location=paper_original_location[:150],
    )
    attachment = services.complaint_attach(complaint=complaint, upload=upload, actor=user, via=Via.API)
    return Status(201, _attachment(attachment))


def _transition(request: HttpRequest, number: Number, action: str, data: dict[str, Any]) -> dict[str, Any]:
    user = _user(request)
    complaint = selectors.complaint_get(user=user, number=number)
    if "duplicate_of" in data:
        data["duplicate_of"] = _complaint_by_number(user, data["duplicate_of"], field="duplicate_of")
    services.complaint_transition(complaint=complaint, action=action, actor=user, via=Via.API, data=data)
    return _complaint_response(request, number)


@router.post("/complaints/{number}/acknowledge", response={200: ComplaintOut, **ONE_WRITE_ERRORS})
def complaint_acknowledge(request: HttpRequest, number: Number) -> dict[str, Any]:
    """Acknowledge receipt (registered → acknowledged); meets the acknowledgement clock. Answers the
    complaint as GET /complaints/{number} does."""
    return _transition(request, number, "acknowledge", {})


@router.post("/complaints/{number}/resolve", response={200: ComplaintOut, **ONE_WRITE_ERRORS})
def complaint_resolve(request: HttpRequest, number: Number, payload: ResolveIn) -> dict[str, Any]:
    """Resolve without dispatching (customer service handled it), with the resolution the customer is
    told; a follow-up is planned."""
    return _transition(request, number, "resolve", payload.dict())


@router.post("/complaints/{number}/invalidate", response={200: ComplaintOut, **ONE_WRITE_ERRORS})
def complaint_invalidate(request: HttpRequest, number: Number, payload: ReasonIn) -> dict[str, Any]:
    """Mark the complaint invalid (spam, not a complaint), with the reason; its clocks are cancelled and
    it is left out of every count."""
    return _transition(request, number, "invalidate", payload.dict())


@router.post("/complaints/{number}/mark-duplicate", response={200: ComplaintOut, **ONE_WRITE_ERRORS})
def complaint_mark_duplicate(request: HttpRequest, number: Number, payload: MarkDuplicateIn) -> dict[str, Any]:
    """Mark the complaint a duplicate of the one being handled (`duplicate_of`, a number); its clocks
    are cancelled and it is left out of every count."""
    return _transition(request, number, "mark_duplicate", payload.dict())


@router.post(
    "/complaints/{number}/transitions",
    response={200: ComplaintOut, **ONE_WRITE_ERRORS},
    summary="Any action of the lifecycle table, with its required fields",
)
def complaint_transition(request: HttpRequest, number: Number, payload: TransitionIn) -> dict[str, Any]:
    """Any action of GET /lifecycle that has no endpoint of its own, with the fields its row requires.
    A state that does not allow it answers 422 `transition_not_allowed` (`code` complaint.not_open once
    the complaint is over, complaint.wrong_state otherwise); a role that may not, 403."""
    data = payload.dict(exclude_none=True)
    action = data.pop("action")
    return _transition(request, number, action, data)


@router.post(
    "/complaints/{number}/priority",
    response={200: ComplaintOut, **ONE_WRITE_ERRORS},
    summary="Change the priority; every open deadline is recomputed",
)
def complaint_priority(request: HttpRequest, number: Number, payload: PriorityIn) -> dict[str, Any]:
    """Change the priority with a reason; every open deadline is computed again from its start."""
    user = _user(request)
    complaint = selectors.complaint_get(user=user, number=number)
    services.complaint_change_priority(
        complaint=complaint, priority=payload.priority, reason=payload.reason, actor=user, via=Via.API
    )
    return _complaint_response(request, number)


@router.post(
    "/complaints/{number}/wait",
    response={200: ComplaintOut, **ONE_WRITE_ERRORS},
    summary="Wait for the customer: pause every clock",
)
def complaint_wait(request: HttpRequest, number: Number, payload: WaitIn) -> dict[str, Any]:
    """Wait for the customer (missing information, an appointment): every clock pauses until resume."""
    user = _user(request)
    complaint = selectors.complaint_get(user=user, number=number)
    services.complaint_wait_for_customer(complaint=complaint, reason=payload.reason, actor=user, via=Via.API)
    return _complaint_response(request, number)


@router.post(
    "/complaints/{number}/resume",
    response={200: ComplaintOut, **ONE_WRITE_ERRORS},
    summary="The customer answered: restart the clocks, extended by the pause",
)
def complaint_resume(request: HttpRequest, number: Number, payload: ResumeIn) -> dict[str, Any]:
    """The customer answered: the clocks run again, each due instant moved by the pause's length."""
    user = _user(request)
    complaint = selectors.complaint_get(user=user, number=number)
    services.complaint_resume(complaint=complaint, note=payload.note, actor=user, via=Via.API)
    return _complaint_response(request, number)


# --- writing to the customer -----------------------------------------------------------------------


def _message(row: Notification, user: User) -> dict[str, Any]:
    masked = not can_see_personal_data(user)
    to = row.address
    if masked:
        to = mask_phone(to) if row.method == Method.SMS else mask_email(to)
    return {
        "id": row.pk,
        "method": row.method,
        "to": to,
        "subject": row.subject,
        "text": row.body,
        "state": row.state,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "sent_at": row.sent_at,
        "provider_message_id": row.provider_message_id,
    }


@router.post(
    "/complaints/{number}/messages",
    response={201: CustomerMessageOut, **ONE_WRITE_ERRORS},
    summary="Write to the customer by e-mail or SMS (through the outbox, on the timeline)",
)
def complaint_message_send(request: HttpRequest, number: Number, payload: CustomerMessageIn) -> Status:
    """The text is `text`, or else the template's for this complaint. `{survey_url}` becomes a link to
    the survey of the complaint's open follow-up. Refused (422, field `method`) when the customer has no
    address for the method, a landline for an SMS, or was anonymised."""
    user = _user(request)
    complaint = selectors.complaint_get(user=user, number=number)
    subject, text = payload.subject, payload.text
    if not text.strip() and payload.template:
        draft_subject, text = customer_messages.write_draft(
            complaint=complaint, method=payload.method, code=payload.template
        )
        if not draft_subject and not text:
            raise DomainError(_("There is no such message template."), field="template")
        subject = subject or draft_subject
    row = services.customer_message_send(
        complaint=complaint,
        method=payload.method,
        subject=subject,
        text=text,
        template=payload.template,
        actor=user,
        via=Via.API,
    )
    return Status(201, _message(row, user))


@router.get(
    "/complaints/{number}/messages",
    response={200: list[CustomerMessageOut], **ONE_ERRORS},
    summary="What was written to the customer from the complaint, newest first, with its delivery",
)
def complaint_messages(request: HttpRequest, number: Number, since: Query[UpdatedSince]) -> list[dict[str, Any]]:
    """What customer service wrote to the complainant from this complaint (POST /complaints/{number}/messages),
    newest first, with each message's delivery state from the outbox. The address is masked for roles without
    personal data; an unknown or invisible complaint is a 404."""
    user = _user(request)
    complaint = selectors.complaint_get(user=user, number=number)
    rows = updated_since(
        Notification.objects.filter(complaint=complaint, kind=customer_messages.WRITE_KIND), since
    ).order_by("-created_at", "-id")
    return [_message(row, user) for row in rows]


# --- call-centre screen pop -------------------------------------------------------------------------


SUBJECT_DESCRIPTION_CHARS = 60


def _subject(complaint: Complaint) -> str:
    """What a complaint is about in one line: its type, product and the start of the customer's words."""
    words = complaint.description.strip().splitlines()[0] if complaint.description.strip() else ""
    if len(words) > SUBJECT_DESCRIPTION_CHARS:
        words = words[: SUBJECT_DESCRIPTION_CHARS - 1] + "…"
    return " · ".join(p for p in (complaint.type.label, complaint.product_label, words) if p)


def _open_complaint(complaint: Complaint) -> dict[str, Any]:
    paused = complaint.waiting_since is not None
    return {
        "number": complaint.number,
        "status": complaint.status,
        "status_label": str(ComplaintStatus(complaint.status).label),
        "priority": complaint.priority,
        "received_at": complaint.received_at,
        "subject": _subject(complaint),
        "next_due_at": complaint.next_due_at,
        "deadline_state": time_left(due_at=complaint.next_due_at, warn_at=complaint.next_warn_at, paused=paused).state,
        "deadlines": [
            {
                "milestone": d.milestone,
                "due_at": d.due_at,
                "state": time_left(due_at=d.due_at, warn_at=d.warn_at, paused=d.paused_at is not None).state,
            }
            for d in complaint.open_deadlines  # type: ignore[attr-defined]  # set by the selector (annotation or prefetch)
        ],
    }


@router.get(
    "/customers/lookup",
    response={200: CustomerLookupOut, 404: ErrorOut, 429: ErrorOut, **READ_ERRORS},
    tags=["customers"],
    summary="Screen pop: the caller and their open complaints, by phone number",
)
def customer_lookup(request: HttpRequest, query: Query[CustomerLookupQuery]) -> Status | dict[str, Any]:
    """For a call-centre (CTI) pop-up. The number is read as intake reads it (+86, spaces, dashes); the
    customer intake would reuse for it is returned, masked for a role without personal data, with their
    open complaints this user may see. Each lookup is a personal-data access in the log; a role that sees
    personal data masked is counted as for a search by a whole number (429 beyond
    PERSONAL_DATA_SEARCH_MAX_PER_HOUR)."""
    user = _user(request)
    try:
        phone = services.normalize_phone(query.phone)
        if not phone:
            raise DomainError(_("Give the caller's phone number."), field="phone")
    except DomainError as exc:
        return Status(422, {"detail": [{"loc": ["query", "phone"], "msg": str(exc.message), "type": exc.code}]})
    customer = services.customer_lookup(user=user, phone=phone)
    if customer is None:
        return Status(404, {"detail": _("No customer has this phone number."), "code": "customer.not_found"})
    complaints = list(selectors.customer_open_complaints(customer=customer, user=user))
    return {
        "customer": _customer(customer, user),
        "complaint_count": selectors.complaints_visible_to(user).filter(customer=customer).count(),
        "open_complaints": [_open_complaint(c) for c in complaints],
    }


# --- lifecycle -----------------------------------------------------------------------------------


@router.get("/lifecycle", response={200: LifecycleOut, 404: ErrorOut, **READ_ERRORS}, tags=["lifecycle"])
def lifecycle(request: HttpRequest, name: str = "complaint") -> dict[str, Any]:
    """A transition table the services enforce (the complaint's unless `name` is another one of
    GET /lifecycles): which action leads from which states to which, for which roles (and, where a rule
    about the object decides, which predicate), with which required fields."""
    table = lifecycle_get(name)
    if table is None:
        raise Http404(name)
    return {
        "name": table.name,
        "title": str(table.title),
        "states": [
            {
                "code": status.value,
                "label": str(status.label),
                "open": table.is_open(status),
                "terminal": status in table.terminal_states(),
            }
            for status in table.states
        ],
        "roles": [{"code": role.value, "label": str(label)} for role, label in ROLE_LABELS.items()],
        "transitions": [
            {
                "action": t.action,
                "label": str(t.label),
                "sources": sorted(str(s) for s in t.sources),
                "target": str(t.target),
                "roles": sorted(r.value for r in t.roles),
                "allowed": t.allowed_name(),
                "required": list(t.required),
                "style": t.style,
                "service": t.service,
            }
            for t in table.transitions
        ],
    }


@router.get("/lifecycles", response={200: list[LifecycleSummaryOut], **READ_ERRORS}, tags=["lifecycle"])
def lifecycle_list(request: HttpRequest) -> list[dict[str, Any]]:
    """Every lifecycle table: each status field of each model is driven by one (GET /lifecycle?name=…)."""
    return [
        {"name": lc.name, "title": str(lc.title), "model": lc.model, "status_field": lc.status_field}
        for lc in lifecycles()
    ]


# --- catalogue (read-only reference data) --------------------------------------------------------


@catalogue_router.get("/catalogue/types", response={200: list[ComplaintTypeOut], **READ_ERRORS})
def catalogue_types(request: HttpRequest, since: Query[UpdatedSince]) -> list[dict[str, Any]]:
    """The active complaint types (`type` of POST /complaints), each with its parent and default department."""
    types = updated_since(ComplaintType.objects.filter(is_active=True), since).select_related(
        "parent", "default_department"
    )
    return [
        {
            **(_ref(t) or {}),
            "parent": t.parent.code if t.parent else None,
            "default_department": t.default_department.code if t.default_department else None,
            "updated_at": t.updated_at,
        }
        for t in types
    ]


@catalogue_router.get("/catalogue/products", response={200: ProductPage, **READ_ERRORS})
def catalogue_products(
    request: HttpRequest, filters: Query[ProductFilters], since: Query[UpdatedSince]
) -> dict[str, Any]:
    """Active products by part of their model or name (`product_model` of POST /complaints)."""
    queryset: QuerySet[Product] = updated_since(Product.objects.filter(is_active=True), since).select_related("line")
    term = filters.q.strip()
    if term:
        queryset = queryset.filter(Q(model__icontains=term) | Q(name__icontains=term) | Q(name_en__icontains=term))
    return {
        "items": [
            {**(_product(p, with_line=True) or {}), "updated_at": p.updated_at}
            for p in queryset[filters.offset : filters.offset + filters.limit]
        ],
        "count": queryset.count(),
    }


@catalogue_router.get("/catalogue/departments", response={200: list[DepartmentOut], **READ_ERRORS})
def catalogue_departments(request: HttpRequest, since: Query[UpdatedSince]) -> list[dict[str, Any]]:
    """The active departments (`department` of POST /complaints and of dispatch assignments)."""
    departments = updated_since(Department.objects.filter(is_active=True), since)
    return [{**(_ref(d) or {}), "updated_at": d.updated_at} for d in departments]


# --- saved views of the queue --------------------------------------------------------------------


def _saved_view(view: SavedView, user: User) -> dict[str, Any]:
    return {
        "id": view.pk,
        "name": view.name,
        "query": view.query,
        "shared": view.shared,
        "mine": view.owner_id == user.pk,
    }


@router.get("/saved-views", response={200: list[SavedViewOut], **READ_ERRORS}, tags=["saved views"])
def saved_view_list(request: HttpRequest) -> list[dict[str, Any]]:
    """The caller's own saved views of the queue and every shared one, shared ones first. Apply one by
    passing its `query` to GET /complaints (the desk's queue reads the same keys)."""
    user = _user(request)
    return [_saved_view(view, user) for view in saved_views.saved_views_for(user=user)]


@router.post("/saved-views", response={201: SavedViewOut, **WRITE_ERRORS}, tags=["saved views"])
def saved_view_create(request: HttpRequest, payload: SavedViewIn) -> Status:
    """Save a named set of queue filters; saving a name the caller already has replaces its filters.
    `shared` views are for CS supervisors (403 otherwise) and may not search for a phone number or an
    e-mail address (422, code `saved_view.personal_data_in_shared_view`)."""
    user = _user(request)
    view = saved_views.saved_view_save(owner=user, name=payload.name, query=payload.query, shared=payload.shared)
    return Status(201, _saved_view(view, user))


@router.delete("/saved-views/{view_id}", response={204: None, **ONE_WRITE_ERRORS}, tags=["saved views"])
def saved_view_delete(request: HttpRequest, view_id: int) -> Status:
    """Delete one of the caller's views; a shared view is deleted by a CS supervisor (403 otherwise)."""
    user = _user(request)
    saved_views.saved_view_delete(view=saved_views.saved_view_get(user=user, pk=view_id), actor=user)
    return Status(204, None)
