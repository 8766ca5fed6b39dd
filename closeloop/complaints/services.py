"""Every write to a complaint goes through here: desk views, portal, API, e-mail intake and jobs.

Pattern: validate (raising DomainError with the failing field), then mutate inside one transaction
with the row locked, write the event in the same transaction, schedule side effects on commit.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from closeloop import authz
from closeloop.complaints import repeats
from closeloop.complaints.customer_messages import (
    EMAIL_MAX_CHARS,
    LATE_PLACEHOLDERS,
    SMS_MAX_CHARS,
    SUBJECT_MAX_CHARS,
    WRITE_KIND,
    WRITE_METHODS,
    customer_language,
    customer_notify,
    thread_headers,
    thread_message_record,
    thread_subject,
)
from closeloop.complaints.events import complaint_check_writable, event_record, event_row, events_insert_many
from closeloop.complaints.lifecycle import (
    FIELD_LABELS,
    LIFECYCLE,
    OPEN_STATUSES,
    Status,
    Transition,
    named_callable,
)
from closeloop.complaints.models import (
    Attachment,
    AttachmentKind,
    Channel,
    Complaint,
    DailySequence,
    Event,
    PersonalDataAccess,
    Priority,
)
from closeloop.complaints.signals import complaint_registered
from closeloop.complaints.sniff import AUDIO_TYPES, content_type_sniff
from closeloop.core import refcache
from closeloop.core.errors import (
    DomainError,
    PermissionDeniedError,
    RateLimited,
    TransitionNotAllowed,
    ValidationFailed,
)
from closeloop.core.inserts import insert_rows
from closeloop.core.masking import can_see_personal_data
from closeloop.core.numbering import daily_number
from closeloop.core.prepared import Param, Prepared
from closeloop.core.types import AnyUser, User
from closeloop.directory import selectors as directory_selectors
from closeloop.directory.models import ComplaintType, Customer, CustomerKind, Product
from closeloop.directory.regions import city_standard, province_standard
from closeloop.directory.selectors import EMAIL, LANDLINE, MOBILE
from closeloop.notifications.models import Method, Notification
from closeloop.notifications.models import State as NotificationState
from closeloop.notifications.services import outbox_wake
from closeloop.sla.milestones import COMPLAINT_MILESTONES_AT_INTAKE
from closeloop.sla.models import Deadline
from closeloop.sla.services import (
    deadlines_close,
    deadlines_pause,
    deadlines_plan,
    deadlines_recompute,
    deadlines_resume,
    deadlines_save_planned,
    nearest_running,
    policy_for,
)

# Received-at may be a little ahead of the server clock on a client; more than that is a typo.
CLOCK_SKEW = datetime.timedelta(minutes=5)


def normalize_phone(raw: str) -> str:
    """Digits only, without the +86 / 0086 country prefix. Raises DomainError when malformed."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    if re.search(r"[^\d\s\-+()]", raw):
        raise DomainError(_("A phone number may contain only digits, spaces, '-', '+' and brackets."), field="phone")
    digits = re.sub(r"\D", "", raw)
    if raw.startswith("+86") or digits.startswith("0086"):
        digits = digits[2:] if raw.startswith("+86") else digits[4:]
    if MOBILE.match(digits) or LANDLINE.match(digits):
        return digits
    raise DomainError(
        _("Enter a mainland mobile number (11 digits starting with 1) or a landline with its area code."),
        field="phone",
    )


RECORDING_URL_MAX_LENGTH = 500


def recording_url_clean(raw: str) -> str:
    """The call-centre's link to a call's recording: an absolute http(s) URL, or "" when none is given.
    Any other scheme (javascript:, file:, a relative path) is refused: the desk shows it as a link."""
    url = (raw or "").strip()
    if not url:
        return ""
    if len(url) > RECORDING_URL_MAX_LENGTH:
        raise DomainError(
            _("The recording link may have at most %(limit)s characters.") % {"limit": RECORDING_URL_MAX_LENGTH},
            field="recording_url",
        )
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise DomainError(
            _("The recording link must be a web address starting with http:// or https://."), field="recording_url"
        ) from None
    return url


@dataclass
class AttachmentUpload:
    name: str
    file: IO[bytes]
    size: int
    kind: str = AttachmentKind.PHOTO
    paper_original_location: str = ""


@dataclass
class IntakeData:
    """What the registration form (客户投诉登记表) asks for, from whichever channel."""

    channel: str
    customer_name: str
    description: str
    type_code: str
    customer_kind: str = CustomerKind.END_USER
    phone: str = ""
    email: str = ""
    organisation: str = ""
    address: str = ""
    province: str = ""
    city: str = ""
    priority: int = Priority.NORMAL
    received_at: datetime.datetime | None = None
    product_model: str = ""
    product_text: str = ""
    batch_no: str = ""
    purchase_date: datetime.date | None = None
    order_no: str = ""
    onsite_situation: str = ""
    demand: str = ""
    department_code: str = ""
    external_ref: str = ""
    recording_url: str = ""
    attachments: list[AttachmentUpload] = field(default_factory=list)


def _validate_attachments(uploads: list[AttachmentUpload], errors: dict[str, list[str]]) -> list[str]:
    types: list[str] = []
    for upload in uploads:
        # The type is decided by the file's content, not by its name or the browser's claim; it also
        # decides the limit: a call recording is larger than a photo.
        content_type = content_type_sniff(upload.file, name=upload.name, size=upload.size)
        audio = content_type in AUDIO_TYPES
        limit = settings.AUDIO_MAX_BYTES if audio else settings.ATTACHMENT_MAX_BYTES
        if upload.size > limit:
            errors.setdefault("attachments", []).append(
                _("%(name)s is %(size).1f MB; the limit is %(limit).0f MB.")
                % {"name": upload.name, "size": upload.size / 1048576, "limit": limit / 1048576}
            )
            types.append("")
            continue
        if not audio and content_type not in settings.ATTACHMENT_ALLOWED_TYPES:
            errors.setdefault("attachments", []).append(
                _("%(name)s: this type of file is not accepted (photos, PDF scans, text and recordings only).")
                % {"name": upload.name}
            )
        if upload.kind not in AttachmentKind.values:
            errors.setdefault("attachments", []).append(_("Unknown attachment kind."))
        types.append(content_type or "")
    return types


def attachment_refusal(upload: AttachmentUpload) -> tuple[str, str]:
    """(content type, "") when `upload` passes the checks every attachment passes (size, type sniffed from
    the bytes, kind), else ("", why not): for callers that keep the good files of a batch, as e-mail
    intake does."""
    errors: dict[str, list[str]] = {}
    (content_type,) = _validate_attachments([upload], errors)
    return ("", " ".join(errors["attachments"])) if errors else (content_type, "")


def attachment_store(
    *,
    complaint: Complaint,
    upload: AttachmentUpload,
    content_type: str,
    by: User | None,
    now: datetime.datetime,
) -> Attachment:
    """Save a checked file on a complaint, inside the caller's transaction (which writes the event)."""
    attachment = Attachment(
        complaint=complaint,
        original_name=upload.name[:255],
        content_type=content_type,
        size=upload.size,
        kind=upload.kind,
        paper_original_location=upload.paper_original_location,
        uploaded_at=now,
        uploaded_by=by,
    )
    attachment.file.save(upload.name, File(upload.file), save=False)
    attachment.save()
    return attachment


def _active_types() -> dict[str, ComplaintType]:
    return {t.code: t for t in directory_selectors.complaint_types_active()}


Fail = Callable[[str, str], None]


def contact_clean(phone: str, email: str, fail: Fail) -> tuple[str, str]:
    """The customer's phone (normalised) and e-mail (lower-case), each checked, and at least one of them:
    the same rules for a complaint and a service order. Errors go to `fail(field, message)`."""
    try:
        clean_phone = normalize_phone(phone)
    except DomainError as exc:
        fail("phone", str(exc.message))
        clean_phone = ""
    clean_email = email.strip().lower()
    if clean_email and not EMAIL.match(clean_email):
        fail("email", _("Enter a valid e-mail address."))
    if not phone.strip() and not clean_email:
        fail("phone", _("Give a phone number or an e-mail address so that we can reach the customer."))
    return clean_phone, clean_email


def received_at_clean(value: datetime.datetime | None, now: datetime.datetime, fail: Fail) -> datetime.datetime:
    """When the request reached us (now when not given), aware, and not in the future beyond CLOCK_SKEW."""
    received_at = value or now
    if timezone.is_naive(received_at):
        received_at = timezone.make_aware(received_at)
    if received_at > now + CLOCK_SKEW:
        fail("received_at", _("The time received cannot be in the future."))
    return received_at


def product_by_model(model: str) -> Product | None:
    return refcache.cached(
        f"product:{model.lower()}", lambda: Product.objects.filter(model__iexact=model).select_related("line").first()
    )


def _validate_intake(data: IntakeData, now: datetime.datetime) -> tuple[dict[str, Any], list[str]]:
    """Check every field and collect all errors at once, so the user fixes them in one go."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}

    def fail(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if data.channel not in Channel.values:
        fail("channel", _("Choose a channel from the list."))
    if data.customer_kind not in CustomerKind.values:
        fail("customer_kind", _("Choose a complainant type from the list."))
    if not data.customer_name.strip():
        fail("customer_name", _("Enter the complainant's name."))
    if not data.description.strip():
        fail("description", _("Describe the problem in the customer's own words."))
    if data.priority not in Priority.values:
        fail("priority", _("Choose a priority from the list."))

    clean["phone"], clean["email"] = contact_clean(data.phone, data.email, fail)
    try:
        clean["recording_url"] = recording_url_clean(data.recording_url)
    except DomainError as exc:
        fail("recording_url", str(exc.message))
        clean["recording_url"] = ""
    clean["received_at"] = received_at_clean(data.received_at, now, fail)
    if data.purchase_date and data.purchase_date > timezone.localdate(now):
        fail("purchase_date", _("The purchase date cannot be in the future."))

    ctype = _active_types().get(data.type_code)
    if ctype is None:
        fail("type", _("Choose a complaint type from the list."))
    clean["type"] = ctype

    product = None
    if data.product_model.strip():
        product = product_by_model(data.product_model.strip())
    if product is None and data.product_model.strip() and not data.product_text.strip():
        # An unknown model is not an error: it is kept as free text for the desk to match later.
        clean["product_text"] = data.product_model.strip()
    else:
        clean["product_text"] = data.product_text.strip()
    clean["product"] = product

    department = None
    if data.department_code:
        from closeloop.directory.models import Department

        department = Department.objects.filter(code=data.department_code, is_active=True).first()
        if department is None:
            fail("department", _("Choose a department from the list."))
    elif ctype is not None:
        department = ctype.default_department
    clean["department"] = department

    attachment_types = _validate_attachments(data.attachments, errors)
    if errors:
        raise ValidationFailed(errors)
    return clean, attachment_types


def customer_find(*, phone: str, email: str) -> Customer | None:
    """The customer a new complaint with this phone (or else this e-mail) belongs to: the oldest one that
    is not anonymised, or None."""
    from closeloop.complaints.selectors import customer_by_phone

    customer = customer_by_phone(phone=phone)
    if customer is None and email:
        customer = Customer.objects.filter(email=email, anonymised_at__isnull=True).order_by("id").first()
    return customer


def _customer_contact_taken(*, phone: str, email: str) -> bool:
    """Whether a live customer now has this phone or e-mail: one indexed read, no row built. It runs inside
    SQLite's writer lock for every new customer, where building `.exists()` through the ORM took ~0.2 ms
    and SQLite's answer 0.01 ms (issue 20): built once (core/prepared.py). A contact not given is passed
    as NULL, which equals nothing."""
    if not (phone or email):
        return False
    return bool(_CONTACT_TAKEN.rows(phone=phone or None, email=email or None))


_CONTACT_TAKEN = Prepared(
    lambda: Customer.objects.filter(
        Q(phone=Param("phone")) | Q(email=Param("email")), anonymised_at__isnull=True
    ).values_list("pk")[:1]
)


def customer_find_or_create(
    *, data: IntakeData, phone: str, email: str, found: Customer | None
) -> tuple[Customer, bool]:
    """Reuse the customer with the same phone (or else the same e-mail); fill in what they lacked.

    `found`: what `customer_find` answered before the caller's write transaction began (intake reads
    before it takes SQLite's one writer lock, issue 20). A customer found is the one. None found is asked
    again here, in the transaction, with an existence check that builds no row, so that two intakes of
    one new customer at the same moment still make one customer."""
    customer = found
    if customer is None and _customer_contact_taken(phone=phone, email=email):
        customer = customer_find(phone=phone, email=email)
    if customer is None:
        customer = Customer(
            kind=data.customer_kind,
            name=data.customer_name.strip(),
            organisation=data.organisation.strip(),
            phone=phone,
            email=email,
            address=data.address.strip(),
            province=province_standard(data.province),
            city=city_standard(data.city),
        )
        insert_rows([customer])  # as save() would, without its per-field preparation (core/inserts.py)
        return customer, True
    changed = []
    for attr, value in (
        ("phone", phone),
        ("email", email),
        ("address", data.address.strip()),
        ("organisation", data.organisation.strip()),
        ("province", province_standard(data.province)),
        ("city", city_standard(data.city)),
    ):
        if value and not getattr(customer, attr):
            setattr(customer, attr, value)
            changed.append(attr)
    if changed:
        customer.save(update_fields=changed)
    return customer, False


def next_complaint_number(day: datetime.date) -> str:
    """`TS` + date + 4-digit daily sequence (closeloop/core/numbering.py). Must run inside the intake
    transaction: the row lock serialises concurrent intakes, and a rollback returns the number."""
    return daily_number(DailySequence, day, "TS")


def complaint_register_once(
    *,
    data: IntakeData,
    actor: User | None,
    via: str,
    now: datetime.datetime | None = None,
    log_access: str = "",
) -> tuple[Complaint, bool]:
    """Register a complaint unless its source system (the channel) already sent this `external_ref`:
    then the complaint registered first, and False. A repeat (or the loser of two such intakes at the
    same moment) meets the unique constraint `complaint_external_ref_unique` and finds the first row."""
    ref = data.external_ref.strip()
    # No look-up first: a repeat is rare, and one read of the complaint with its joins was a fifth of
    # every intake's time (issue 20). The repeat meets the constraint; its transaction, number
    # included, rolls back.
    try:
        return complaint_register(data=data, actor=actor, via=via, now=now, log_access=log_access), True
    except IntegrityError:
        if not ref or (existing := _complaint_by_external_ref(data.channel, ref)) is None:
            raise
        return existing, False


def _complaint_by_external_ref(channel: str, ref: str) -> Complaint | None:
    # The index's own condition repeated: SQLite uses a partial index only when the query states its
    # WHERE term, and otherwise scanned every complaint of the channel (with the ORDER BY of
    # `first()` dropped: one row at most matches the unique constraint).
    rows = (
        Complaint.objects.select_related("customer", "type", "department", "product")
        .filter(~Q(external_ref=""), channel=channel, external_ref=ref)
        .order_by()[:1]
    )
    return next(iter(rows), None)


def _intake_clocks_plan(complaint: Complaint, *, customer_kind: str) -> list[Deadline]:
    """The SLA policy and clocks of a complaint being registered: they start at receipt, and are planned
    before the insert so that the row is written once with its nearest deadline."""
    product = complaint.product
    complaint.sla_policy = policy_for(customer_kind=customer_kind, product_line_id=product.line_id if product else None)
    planned = deadlines_plan(
        policy=complaint.sla_policy,
        priority=complaint.priority,
        milestones=COMPLAINT_MILESTONES_AT_INTAKE,
        start=complaint.received_at,
        assignee=complaint.registered_by,
    )
    complaint.next_due_at, complaint.next_warn_at = nearest_running(planned)
    return planned


def complaint_register(
    *,
    data: IntakeData,
    actor: User | None,
    via: str,
    now: datetime.datetime | None = None,
    log_access: str = "",
) -> Complaint:
    """Register a complaint: customer found or created, number, SLA clocks, repeat check, timeline, in
    one transaction. `log_access`: the caller shows the actor the unmasked customer data (the API's
    answer), logged under that name in the same transaction."""
    now = now or timezone.now()
    clean, attachment_types = _validate_intake(data, now)
    # What only reads is done before the write transaction. On SQLite (the embedded default) a write
    # transaction holds the database's one writer lock from BEGIN to COMMIT, so every millisecond in it
    # is a millisecond the other workers' intakes wait (issue 20); on PostgreSQL the same reads ran
    # under the daily number's row lock. The reads are of rows intake does not write, except the
    # customer, whom `customer_find_or_create` asks again inside when none was found.
    found = customer_find(phone=clean["phone"], email=clean["email"])
    registered_by = actor if actor is not None and actor.is_authenticated else None
    complaint = Complaint(
        channel=data.channel,
        priority=data.priority,
        received_at=clean["received_at"],
        registered_at=now,
        registered_by=registered_by,
        customer=found,
        product=clean["product"],
        product_text=clean["product_text"],
        batch_no=data.batch_no.strip(),
        purchase_date=data.purchase_date,
        order_no=data.order_no.strip(),
        type=clean["type"],
        department=clean["department"],
        description=data.description.strip(),
        onsite_situation=data.onsite_situation.strip(),
        demand=data.demand.strip(),
        external_ref=data.external_ref.strip(),
        recording_url=clean["recording_url"],
    )
    planned = _intake_clocks_plan(complaint, customer_kind=found.kind if found else data.customer_kind)
    # Domain rule 5, decided before the insert so that the row is written once. Only a customer found
    # can repeat: their earlier complaint must have been resolved, which no intake running now does.
    related: list[repeats.RelatedRecord] = []
    if found is not None:
        if (earlier := repeats.detect_repeat(complaint=complaint)) is not None:
            complaint.repeat_of = earlier
            complaint.repeat_reason = repeats.repeat_reason_text(complaint=complaint, earlier=earlier)
        # The same customer's recent service orders on the product (issue 16): a warning, not a repeat.
        related = repeats.related_records(complaint=complaint)
    with transaction.atomic():
        customer, customer_created = customer_find_or_create(
            data=data, phone=clean["phone"], email=clean["email"], found=found
        )
        if customer.kind != (found.kind if found else data.customer_kind):
            # An intake that ran meanwhile registered this customer, as another kind: its clocks.
            planned = _intake_clocks_plan(complaint, customer_kind=customer.kind)
        complaint.customer = customer
        complaint.province = province_standard(data.province or customer.province)
        complaint.city = city_standard(data.city or customer.city)
        complaint.number = next_complaint_number(timezone.localdate(now))
        # Written once, as save(force_insert=True) would (no save() override or signal on Complaint), by
        # insert_rows: the ORM's per-field preparation of 40 columns cost more than SQLite's insert (issue 20).
        insert_rows([complaint])
        # Kept on the instance as if prefetched: the caller's `complaint.deadlines.all()` reads no row.
        prefetched = getattr(complaint, "_prefetched_objects_cache", {})
        prefetched["deadlines"] = deadlines_save_planned(complaint=complaint, planned=planned)
        complaint._prefetched_objects_cache = prefetched  # type: ignore[attr-defined]  # Django's prefetch cache
        for upload, content_type in zip(data.attachments, attachment_types, strict=True):
            attachment_store(
                complaint=complaint, upload=upload, content_type=content_type, by=complaint.registered_by, now=now
            )
        after = {
            "status": complaint.status,
            "channel": complaint.channel,
            "priority": complaint.priority,
            "type": clean["type"].code,
            "customer": customer.pk,
            "customer_created": customer_created,
            "department": complaint.department_id,
            "attachments": len(data.attachments),
            "sla_policy": complaint.sla_policy.code if complaint.sla_policy else None,
        }
        events = [event_row(complaint=complaint, action="registered", actor=actor, via=via, at=now, after=after)]
        if complaint.repeat_of is not None:
            events.append(repeats.repeat_detected_event(complaint=complaint, actor=actor, via=via, now=now))
        if related:
            events.append(
                repeats.related_found_event(complaint=complaint, records=related, actor=actor, via=via, now=now)
            )
        events_insert_many(events)
        if log_access and actor is not None:
            personal_data_access_record(user=actor, complaints=[complaint], where=log_access)
        transaction.on_commit(lambda: complaint_registered.send(sender=Complaint, complaint=complaint))
    return complaint


def _transition_values(action: str, data: dict[str, Any], now: datetime.datetime) -> dict[str, Any]:
    """The fields a transition sets besides the status."""
    if action == "acknowledge":
        return {"acknowledged_at": now}
    if action == "resolve":
        return {"resolved_at": now, "resolution": str(data["resolution"]).strip()}
    if action == "invalidate":
        return {"status_reason": str(data["reason"]).strip()}
    if action == "mark_duplicate":
        return {"status_reason": str(data["reason"]).strip(), "duplicate_of": data["duplicate_of"]}
    if action == "close":
        return {"closed_at": now}
    return {}


def _blank(value: object) -> bool:
    if isinstance(value, str):
        return not value.strip()
    return value is None or (isinstance(value, list | tuple) and not value)


def transition_check(*, transition: Transition, actor: User | None, data: dict[str, Any]) -> None:
    """The checks that need no lock: the actor's role (PermissionDeniedError: a 403, unlike a refusal
    for the complaint's state) and the required fields."""
    LIFECYCLE.check_actor(transition.action, actor)
    missing = {}
    for name in transition.required:
        value = data.get(name)
        if _blank(value):
            missing[name] = [
                _("This field is required to “%(label)s”: %(field)s.")
                % {"label": transition.label, "field": FIELD_LABELS.get(name, name)}
            ]
    if missing:
        raise ValidationFailed(missing)


def transition_apply(
    *,
    locked: Complaint,
    transition: Transition,
    actor: User | None,
    via: str,
    now: datetime.datetime,
    data: dict[str, Any] | None = None,
    values: dict[str, Any] | None = None,
    note: str = "",
    extra: dict[str, Any] | None = None,
) -> Complaint:
    """Change the state of a complaint already locked by the caller's transaction: check the source
    state and the guards, set the status and `values`, meet or cancel the SLA milestones the table
    names, and write the event. Every state change in CloseLoop ends here."""
    data = data or {}
    values = values or {}
    LIFECYCLE.check_state(locked, transition.action)
    LIFECYCLE.check_guards(locked, transition.action, data)
    replaced = {k: getattr(locked, k) for k in values}
    status_before, _target = LIFECYCLE.move(locked, transition.action, actor, checked=True)
    before = {"status": status_before, **replaced}
    for key, value in values.items():
        setattr(locked, key, value)
    locked.save(update_fields=["status", "updated_at", *values.keys()])
    if transition.cancels_deadlines:
        deadlines_close(complaint=locked, milestones=None, at=now, cancelled=True, include_tasks=True)
    elif transition.meets:
        deadlines_close(complaint=locked, milestones=transition.meets, at=now)
    for path in transition.then:
        named_callable(path)(complaint=locked, actor=actor, via=via, now=now)
    if transition.notify_customer:
        messages = customer_notify(complaint=locked, code=transition.notify_customer, now=now)
        extra = {**(extra or {}), "customer_messages": [m.method for m in messages]}
    event_record(
        complaint=locked,
        action=transition.action,
        actor=actor,
        via=via,
        before=before,
        after={"status": locked.status, **values, **(extra or {})},
        note=note,
        at=now,
    )
    return locked


def complaint_transition(
    *,
    complaint: Complaint,
    action: str,
    actor: User | None,
    via: str,
    data: dict[str, Any] | None = None,
    now: datetime.datetime | None = None,
) -> Complaint:
    """Move a complaint along the lifecycle table. Refuses, changing nothing, when the action is
    unknown, performed by a dedicated service, not allowed from the current state, not allowed for
    the actor's roles, or missing a required field."""
    data = dict(data or {})
    now = now or timezone.now()
    transition = LIFECYCLE.get(action)
    if transition.service:
        raise TransitionNotAllowed(
            _("“%(label)s” has its own form: it needs more than a status change.") % {"label": transition.label},
            reason="own_endpoint",
        )
    transition_check(transition=transition, actor=actor, data=data)
    with transaction.atomic():
        locked = Complaint.objects.select_for_update(no_key=True).get(pk=complaint.pk)
        return transition_apply(
            locked=locked,
            transition=transition,
            actor=actor,
            via=via,
            now=now,
            data=data,
            values=_transition_values(action, data, now),
            note=str(data.get("note") or data.get("reason") or data.get("resolution") or ""),
        )


# Who writes to the complainant from the complaint (e-mail or SMS): customer service, the customer's one
# point of contact (a handler's calls are logged on their task). The desk's panel, the API and
# `customer_message_send` ask this function, which asks authz.
def can_write_to_customer(user: AnyUser | None) -> bool:
    return authz.allowed(user, "complaints.write_to_customer")


def _check_open_for_desk(complaint: Complaint, actor: User | None, label: str) -> None:
    authz.require(
        actor, "complaints.reprioritise_complaint", message=_("Your role may not %(action)s.") % {"action": label}
    )
    if complaint.status not in OPEN_STATUSES:
        raise TransitionNotAllowed(
            _("Not possible while the complaint is %(status)s.") % {"status": Status(complaint.status).label},
            reason="not_open",
        )


def complaint_change_priority(
    *,
    complaint: Complaint,
    priority: int,
    reason: str,
    actor: User | None,
    via: str,
    now: datetime.datetime | None = None,
    system: bool = False,
) -> Complaint:
    """A new priority recomputes every open deadline from its own start; the timeline says how.
    `system`: a rule raises it (a safety hazard, closeloop/triage/hazards.py), nobody to ask."""
    now = now or timezone.now()
    if priority not in Priority.values:
        raise DomainError(_("Choose a priority from the list."), field="priority")
    if not reason.strip():
        raise DomainError(_("Say why the priority changes."), field="reason")
    with transaction.atomic():
        locked = Complaint.objects.select_for_update(no_key=True).get(pk=complaint.pk)
        if system:
            if locked.status not in OPEN_STATUSES:
                return locked
        else:
            _check_open_for_desk(locked, actor, str(_("change the priority")))
        if locked.priority == priority:
            return locked
        before = locked.priority
        locked.priority = priority
        locked.save(update_fields=["priority", "updated_at"])
        changes = deadlines_recompute(complaint=locked)
        event_record(
            complaint=locked,
            action="priority_changed",
            actor=actor,
            via=via,
            at=now,
            note=reason.strip(),
            before={"priority": before},
            after={"priority": priority, "deadlines": changes},
        )
    return locked


def complaint_wait_for_customer(
    *,
    complaint: Complaint,
    reason: str,
    actor: User | None,
    via: str,
    now: datetime.datetime | None = None,
) -> Complaint:
    """Pause every clock of the complaint (domain rule 2) until `complaint_resume`."""
    now = now or timezone.now()
    if not reason.strip():
        raise DomainError(_("Say what we are waiting for from the customer."), field="reason")
    with transaction.atomic():
        locked = Complaint.objects.select_for_update(no_key=True).get(pk=complaint.pk)
        _check_open_for_desk(locked, actor, str(_("pause the clocks")))
        if locked.waiting_since is not None:
            raise TransitionNotAllowed(
                _("The complaint is already waiting for the customer."), reason="already_waiting"
            )
        locked.waiting_since, locked.waiting_reason = now, reason.strip()[:200]
        locked.save(update_fields=["waiting_since", "waiting_reason", "updated_at"])
        deadlines_pause(complaint=locked, at=now)
        event_record(
            complaint=locked,
            action="waiting_started",
            actor=actor,
            via=via,
            at=now,
            note=locked.waiting_reason,
            after={"waiting_since": now},
        )
    return locked


def complaint_resume(
    *,
    complaint: Complaint,
    actor: User | None,
    via: str,
    note: str = "",
    now: datetime.datetime | None = None,
) -> Complaint:
    """Restart the clocks; each deadline is extended by the pause as sla.md says."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Complaint.objects.select_for_update(no_key=True).get(pk=complaint.pk)
        _check_open_for_desk(locked, actor, str(_("resume the clocks")))
        if locked.waiting_since is None:
            raise TransitionNotAllowed(_("The complaint is not waiting for the customer."), reason="not_waiting")
        since = locked.waiting_since
        locked.waiting_since, locked.waiting_reason = None, ""
        locked.save(update_fields=["waiting_since", "waiting_reason", "updated_at"])
        changes = deadlines_resume(complaint=locked, at=now)
        event_record(
            complaint=locked,
            action="waiting_ended",
            actor=actor,
            via=via,
            at=now,
            note=note.strip(),
            before={"waiting_since": since},
            after={"deadlines": changes},
        )
    return locked


def _personal_data_access_insert(*, user: AnyUser, seen: Sequence[tuple[int | None, int | None]], where: str) -> None:
    """Write access-log rows, (customer id, complaint id) each, as one INSERT statement with one timestamp.

    Not bulk_create: it builds a model instance per row, asks for the new ids back and wraps the statement
    in a transaction of its own (on SQLite BEGIN IMMEDIATE … COMMIT, three statements) — a fifth of the
    desk queue's work after its rows (docs/decisions.md, issue 20). One statement is atomic by itself;
    inside a caller's transaction it is part of it. Nothing listens to this model's saves (bulk_create sent
    no signals either)."""
    from django.db import connection

    meta = PersonalDataAccess._meta
    quote = connection.ops.quote_name
    by_name = {f.name: f.column for f in meta.concrete_fields}
    columns = ", ".join(quote(by_name[name]) for name in ("at", "user", "customer", "complaint", "where"))
    at = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        for start in range(0, len(seen), _ACCESS_ROWS_PER_STATEMENT):
            chunk = seen[start : start + _ACCESS_ROWS_PER_STATEMENT]
            params = [v for customer_id, complaint_id in chunk for v in (at, user.pk, customer_id, complaint_id, where)]
            values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {values}", params)  # noqa: S608  # our own table and columns


_ACCESS_ROWS_PER_STATEMENT = 1000  # 5,000 parameters: below SQLite's 32,766 and PostgreSQL's 65,535


def personal_data_access_record(*, user: AnyUser, complaints: list[Complaint], where: str) -> None:
    """Record that `user` saw unmasked personal data of these complaints' customers (one statement)."""
    if not complaints or not can_see_personal_data(user):
        return
    _personal_data_access_insert(user=user, seen=[(c.customer_id, c.pk) for c in complaints], where=where)


def customer_data_access_record(*, user: AnyUser, customers: list[Customer], where: str) -> None:
    """Record that `user` saw unmasked personal data of these customers outside any complaint, e.g.
    in the desk's customer lookup (one query)."""
    if not customers or not can_see_personal_data(user):
        return
    _personal_data_access_insert(user=user, seen=[(c.pk, None) for c in customers], where=where)


CONTACT_SEARCH_WINDOW_SECONDS = 3600


def contact_search_admit(*, user: AnyUser, term: str, where: str) -> None:
    """A search by a whole phone number or e-mail address, by someone who sees them masked: counted
    against PERSONAL_DATA_SEARCH_MAX_PER_HOUR (RateLimited beyond it, and then it must not run) and
    recorded as a personal-data access of each customer it names — or of nobody, so that guessing shows
    in the log too. Any other search, and any search by someone who sees personal data, passes as is."""
    from closeloop.complaints.selectors import contact_in_term, contact_search_counts
    from closeloop.core.throttle import throttle_hit

    if not user.is_authenticated or not contact_search_counts(user=user, term=term):
        return
    kind, contact = contact_in_term(term.strip())
    now = timezone.now().timestamp()
    if throttle_hit(
        scope="personal_data_search",
        identity=str(user.pk),
        max_hits=settings.PERSONAL_DATA_SEARCH_MAX_PER_HOUR,
        window_seconds=CONTACT_SEARCH_WINDOW_SECONDS,
        now=now,
    ):
        raise RateLimited(
            _(
                "You have searched for %(limit)s phone numbers or e-mail addresses in this hour, the most "
                "allowed. Search by complaint number, name or product meanwhile."
            )
            % {"limit": settings.PERSONAL_DATA_SEARCH_MAX_PER_HOUR},
            field="q",
            retry_after=CONTACT_SEARCH_WINDOW_SECONDS - int(now) % CONTACT_SEARCH_WINDOW_SECONDS,
        )
    found = list(Customer.objects.filter(**{kind: contact}).values_list("pk", flat=True))
    PersonalDataAccess.objects.bulk_create(
        [PersonalDataAccess(user=user, customer_id=pk, complaint=None, where=where) for pk in found]
        or [PersonalDataAccess(user=user, customer=None, complaint=None, where=where)]
    )


def customer_lookup(*, user: User, phone: str) -> Customer | None:
    """The customer a call comes from, by the stored form of their number (`normalize_phone`), or None.
    Permission first (PermissionDeniedError); a role that sees personal data masked is counted and logged
    as for any search by a whole number (`contact_search_admit`, RateLimited beyond the hourly allowance);
    a role that sees it unmasked has the access logged — of nobody when no one has the number, so that
    trying numbers shows in the log too."""
    from closeloop.complaints.selectors import customer_by_phone

    authz.require(user, "complaints.look_up_caller")
    contact_search_admit(user=user, term=phone, where="screen pop")
    customer = customer_by_phone(phone=phone)
    if can_see_personal_data(user):
        PersonalDataAccess.objects.create(user=user, customer=customer, complaint=None, where="screen pop")
    return customer


def complaint_attach(
    *,
    complaint: Complaint,
    upload: AttachmentUpload,
    actor: User | None,
    via: str,
    now: datetime.datetime | None = None,
) -> Attachment:
    """Add one file to an existing complaint, checked like the files of an intake (size, content
    type sniffed from the bytes, kind); errors are reported on the field `file`."""
    now = now or timezone.now()
    authz.require(actor, "complaints.attach_evidence")
    errors: dict[str, list[str]] = {}
    (content_type,) = _validate_attachments([upload], errors)
    if errors:
        raise ValidationFailed({"file": errors["attachments"]})
    with transaction.atomic():
        locked = Complaint.objects.select_for_update(no_key=True).get(pk=complaint.pk)
        complaint_check_writable(locked)  # before the file reaches the storage
        upload.paper_original_location = upload.paper_original_location.strip()
        attachment = attachment_store(
            complaint=locked,
            upload=upload,
            content_type=content_type,
            by=actor if actor is not None and actor.is_authenticated else None,
            now=now,
        )
        event_record(
            complaint=locked,
            action="attachment_added",
            actor=actor,
            via=via,
            after={
                "attachment": attachment.pk,
                "name": attachment.original_name,
                "content_type": content_type,
                "size": attachment.size,
                "kind": attachment.kind,
            },
        )
    return attachment


def _customer_address(customer: Customer, method: str) -> str:
    """Where a message by `method` reaches the customer; DomainError on the field `method` when nowhere."""
    if customer.anonymised_at is not None:
        raise DomainError(
            _("The customer's personal data has been anonymised: they cannot be written to."), field="method"
        )
    if method == Method.EMAIL:
        if not customer.email:
            raise DomainError(_("We have no e-mail address for this customer."), field="method")
        return customer.email
    if not customer.phone:
        raise DomainError(_("We have no mobile number for this customer."), field="method")
    if not MOBILE.match(customer.phone):
        raise DomainError(_("The customer's number is a landline: it cannot receive an SMS."), field="method")
    return customer.phone


def customer_message_send(
    *,
    complaint: Complaint,
    method: str,
    text: str,
    actor: User | None,
    via: str,
    subject: str = "",
    template: str = "",
    now: datetime.datetime | None = None,
) -> Notification:
    """An agent writes to the complainant by e-mail or SMS: the message goes into the outbox (retried,
    with the provider's id, like every message) and onto the timeline, in one transaction. `template`
    names the MessageTemplate the text started from, for the record. Refused without an address for the
    method, for an anonymised customer and on an archived complaint."""
    now = now or timezone.now()
    if not can_write_to_customer(actor):
        raise PermissionDeniedError(_("Only customer-service agents and CS supervisors write to the customer."))
    errors: dict[str, list[str]] = {}
    if method not in WRITE_METHODS:
        errors["method"] = [_("Write by e-mail or SMS.")]
    text, subject = (text or "").strip(), (subject or "").strip()
    limit = SMS_MAX_CHARS if method == Method.SMS else EMAIL_MAX_CHARS
    if not text:
        errors["text"] = [_("Write the message.")]
    elif len(text) > limit:
        errors["text"] = [
            _("At most %(limit)s characters, this has %(length)s.") % {"limit": limit, "length": len(text)}
        ]
    if len(subject) > SUBJECT_MAX_CHARS:
        errors["subject"] = [_("At most %(limit)s characters.") % {"limit": SUBJECT_MAX_CHARS}]
    if errors:
        raise ValidationFailed(errors)
    if method == Method.SMS:
        subject = ""  # an SMS is its text; the gateways send subject and text together
    elif not subject:
        with translation.override(customer_language(complaint)):
            subject = _("Your complaint %(number)s") % {"number": complaint.number}
    with transaction.atomic():
        locked = Complaint.objects.select_for_update(no_key=True).select_related("customer").get(pk=complaint.pk)
        complaint_check_writable(locked)
        address = _customer_address(locked.customer, method)
        for name, provider in LATE_PLACEHOLDERS.items():
            token = "{" + name + "}"
            if token in text or token in subject:
                value = provider(complaint=locked, method=method, actor=actor, now=now)
                text, subject = text.replace(token, value), subject.replace(token, value)
        headers: dict[str, str] = {}
        if method == Method.EMAIL:  # threaded like every mail to the customer: their reply comes back here
            subject, headers = thread_subject(subject, locked.number), thread_headers(locked)
        row = Notification.objects.create(
            created_at=now,
            method=method,
            recipient=None,
            address=address,
            complaint=locked,
            kind=WRITE_KIND,
            subject=subject,
            body=text,
            state=NotificationState.PENDING,
            next_attempt_at=now,
            headers=headers,
        )
        if method == Method.EMAIL:
            thread_message_record(complaint=locked, message_id=row.message_id, inbound=False, at=now)
        event_record(
            complaint=locked,
            action="customer_written",
            actor=actor,
            via=via,
            at=now,
            # The address stays in the outbox row; the timeline names the method only.
            after={"method": method, "notification": row.pk, "template": template, "subject": subject},
            note=text,
        )
        transaction.on_commit(outbox_wake)
    return row


CUSTOMER_ADDITION_MAX_CHARS = 2000


def complaint_customer_add(
    *,
    complaint: Complaint,
    text: str,
    uploads: list[AttachmentUpload],
    via: str,
    now: datetime.datetime | None = None,
    told: Sequence[str] = (),
) -> Event:
    """The customer adds information and files to their own open complaint (the portal's status page,
    after the number + phone check): one event on the timeline with the text as its note, the files
    checked like every attachment, and `told`, the usernames of those notified (handling's
    `customer_addition_record` tells them). Who may call it is the caller's check (the browser's status
    grant)."""
    now = now or timezone.now()
    text = text.strip()
    errors: dict[str, list[str]] = {}
    if not text and not uploads:
        errors["text"] = [_("Write what you want to add, or attach a photo.")]
    if len(text) > CUSTOMER_ADDITION_MAX_CHARS:
        errors["text"] = [_("Please keep it under %(limit)d characters.") % {"limit": CUSTOMER_ADDITION_MAX_CHARS}]
    types = _validate_attachments(uploads, errors)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        locked = Complaint.objects.select_for_update(no_key=True).get(pk=complaint.pk)
        if locked.status not in OPEN_STATUSES:
            raise DomainError(
                _("This complaint is no longer open, so nothing can be added to it. Please send a new complaint."),
                field="text",
            )
        stored = [
            attachment_store(complaint=locked, upload=upload, content_type=content_type, by=None, now=now)
            for upload, content_type in zip(uploads, types, strict=True)
        ]
        return event_record(
            complaint=locked,
            action="customer_added",
            actor=None,
            via=via,
            after={"attachments": [{"id": a.pk, "name": a.original_name} for a in stored], "told": list(told)},
            note=text,
            at=now,
        )
