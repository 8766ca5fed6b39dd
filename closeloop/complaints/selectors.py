"""Reads of complaints: who may see what, the queue, one complaint with its timeline."""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import BooleanField, Exists, F, Func, OuterRef, Prefetch, Q, QuerySet, Value
from django.db.models.lookups import IsNull
from django.utils import timezone
from django.utils.functional import cached_property

from closeloop.complaints.lifecycle import OPEN_STATUS_LIST, OPEN_STATUSES
from closeloop.complaints.models import Complaint, Event
from closeloop.core.lookups import InIndexCondition
from closeloop.core.masking import can_see_personal_data, mask_address, mask_email, mask_phone
from closeloop.core.prepared import Param, Prepared
from closeloop.core.types import AnyUser
from closeloop.directory.models import Customer, Membership
from closeloop.directory.selectors import bare_model, full_email, full_phone, products_by_bare_model
from closeloop.notifications.models import Method, Notification
from closeloop.sla.models import Deadline


def complaints_visible_to(user: AnyUser) -> QuerySet[Complaint]:
    """Agents, supervisors, quality, auditors and management see all; handlers and managers see the
    complaints of their departments (responsible, or dispatched to them); anyone else nothing."""
    qs = Complaint.objects.all()
    if not user.is_authenticated:
        return qs.none()
    if user.has_perm("complaints.view_all_complaints"):
        return qs
    if not user.has_perm("complaints.view_complaint"):
        return qs.none()
    department_ids = list(Membership.objects.filter(user=user).values_list("department_id", flat=True))
    # Responsible department, or any department that has (had) a task on it. The tasks are read
    # through the reverse relation: complaints sit below handling and do not import it.
    tasks = Complaint.tasks.rel.related_model
    has_task = tasks.objects.filter(complaint=OuterRef("pk"), department_id__in=department_ids)  # type: ignore[union-attr]  # handling's Task
    return qs.filter(Q(department_id__in=department_ids) | Exists(has_task))


# The status filter's "every open complaint" (the desk queue's default: closed and invalid ones are
# asked for by their status or "all").
OPEN = "open"


@dataclass(frozen=True)
class QueueFilters:
    status: str = ""  # a Status, OPEN, or "" for every status
    priority: int | None = None
    type_code: str = ""
    channel: str = ""
    product: str = ""
    received_from: datetime.date | None = None
    received_to: datetime.date | None = None
    q: str = ""
    due: str = ""  # "overdue" | "today" | ""
    sort: str = "due"
    external_ref: str = ""
    updated_since: datetime.datetime | None = None


SORTS = {
    # Nearest deadline first; complaints with no running clock (closed, waiting) after them. Written as
    # `next_due_at IS NULL, next_due_at` rather than NULLS LAST so that both databases walk the index
    # complaint_due_order for a page (SQLite cannot index NULLS LAST and sorted every complaint: the
    # desk queue's default order was most of its 132 ms at 100,000 complaints).
    "due": (IsNull(F("next_due_at"), True).asc(), F("next_due_at").asc(), "-received_at", "-id"),
    "-received_at": ("-received_at", "-id"),
    "received_at": ("received_at", "id"),
    "priority": ("priority", "-received_at", "-id"),
    "number": ("number",),
    "-number": ("-number",),
}


# Dates outside these bounds filter nothing more, and year 1 or 9999 would overflow the UTC conversion.
_FIRST_DAY, _LAST_DAY = datetime.date(1970, 1, 1), datetime.date(9998, 12, 31)


def _local_midnight(day: datetime.date) -> datetime.datetime:
    day = min(max(day, _FIRST_DAY), _LAST_DAY)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


# What a row of the desk queue shows (complaints/templatetags/desk.py: queue_rows), and the contact the
# row is masked from (customer_contact): a complaint has some forty columns, its description the longest.
QUEUE_ROW_FIELDS = (
    "number",
    "status",
    "priority",
    "received_at",
    "next_due_at",
    "next_warn_at",
    "waiting_since",
    "repeat_of",
    "product_text",
    "customer__name",
    "customer__phone",
    "customer__email",
    "customer__address",
    "product__model",
    "product__name",
    "product__name_en",
    "type__name",
    "type__name_en",
    "department__name",
    "department__name_en",
)


def complaint_queue(*, user: AnyUser, filters: QueueFilters, only: Sequence[str] = ()) -> QuerySet[Complaint]:
    """The queue with the filters applied; related rows joined so a page costs a fixed number of
    queries whatever the number of complaints. `only`: the columns read (QUEUE_ROW_FIELDS for the desk's
    rows), the joined rows' included; any other is then read by a query of its own per row."""
    qs = complaints_visible_to(user).select_related("customer", "product", "type", "department")
    if filters.status == OPEN:
        qs = qs.filter(InIndexCondition(F("status"), OPEN_STATUS_LIST))  # complaint_open_due's condition, word for word
    elif filters.status:
        qs = qs.filter(status=filters.status)
    if filters.priority:
        qs = qs.filter(priority=filters.priority)
    if filters.type_code:
        qs = qs.filter(type__code=filters.type_code)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.product:
        qs = qs.filter(
            Q(product__model__iexact=filters.product)
            | Q(product_id__in=products_by_bare_model(filters.product).values("pk"))
            | Q(product_text__icontains=filters.product)
        )
    # Local-midnight bounds keep the received_at index usable (a __date lookup converts every row).
    if filters.received_from:
        qs = qs.filter(received_at__gte=_local_midnight(filters.received_from))
    if filters.received_to:
        qs = qs.filter(
            received_at__lt=_local_midnight(min(filters.received_to, _LAST_DAY) + datetime.timedelta(days=1))
        )
    if filters.external_ref:
        # `~Q(external_ref="")` repeats the partial index's condition, without which SQLite ignores it.
        qs = qs.filter(~Q(external_ref=""), external_ref=filters.external_ref)
    if filters.updated_since:
        qs = qs.filter(updated_at__gte=filters.updated_since)
    if filters.due == "overdue":
        qs = qs.filter(next_due_at__lte=timezone.now())
    elif filters.due == "today":
        end_of_day = _local_midnight(timezone.localdate() + datetime.timedelta(days=1))
        qs = qs.filter(next_due_at__lt=end_of_day, next_due_at__gt=timezone.now())
    overflowed = False
    if filters.q and (term := filters.q.strip()):
        masked = not can_see_personal_data(user)
        matches = search_matches(term, masked=masked)
        if matches is None:  # more than QUEUE_COUNT_CAP: the queue's own order finds a page at once
            qs, overflowed = qs.filter(search_q(term, masked=masked)), True
        else:
            qs = qs.filter(pk__in=matches)
    qs = qs.order_by(*SORTS.get(filters.sort, SORTS["due"]))
    if only:
        qs = qs.only(*only, "customer", "product", "type", "department")
    if overflowed:  # known to be longer than the cap: CappedPaginator need not count
        qs.count_at_least = settings.QUEUE_COUNT_CAP  # type: ignore[attr-defined]  # set by the selector (annotation or prefetch)
    return qs


# --- search -------------------------------------------------------------------------------------


# A complaint number or a part of one with its dash (TS20261206-0006): digits alone are read as a
# number's part or a phone's tail below.
PART_OF_NUMBER = re.compile(r"^(?:TS)?\d*-\d+$|^TS\d+$", re.IGNORECASE)


def contact_in_term(term: str) -> tuple[str, str]:
    """("phone", digits) or ("email", address) when a search term is a customer's whole phone number or
    e-mail address, as they are stored; ("", "") otherwise."""
    if phone := full_phone(term):
        return "phone", phone
    if email := full_email(term):
        return "email", email
    return "", ""


def contact_search_counts(*, user: AnyUser, term: str) -> bool:
    """Whether this search is one that is counted and logged (complaints.services.contact_search_admit):
    a whole phone number or e-mail address, searched by someone who sees them masked."""
    return bool(term.strip()) and not can_see_personal_data(user) and bool(contact_in_term(term.strip())[0])


def _search_conditions(term: str, *, masked: bool, indexed: bool) -> list[Any]:
    """What a search term matches, one condition per field: a complaint number, words of the description
    or the product, the customer's name, phone or e-mail, a model, a batch. Digits alone are part of a
    number or a phone tail. `indexed`: written as the n-gram index reads them where a term is too short for
    a trigram (PostgreSQL, migration complaints 0006).

    `masked`: the searcher sees contact data masked (139****4405). A phone or e-mail is then found only by
    the whole of it, never by a part: a part would tell which digits hide behind the stars, one search per
    candidate (docs/decisions.md, "Go-live: personal data"). Everybody finds an e-mail only by the whole
    address."""
    kind, contact = contact_in_term(term)
    whole_contact = [Q(**{f"customer__{kind}": contact})] if kind else []
    if PART_OF_NUMBER.match(term):
        # "20261206-0006", "1206-0006", "ts20261206": a part of a complaint number, nothing else.
        return [Q(number__contains=term.upper()), *whole_contact]
    if term.isdigit():
        if masked:
            return [Q(number__contains=term), *whole_contact]
        return [Q(customer__phone__endswith=term), Q(number__contains=term)]
    if indexed and _by_ngram(term):
        description: Any = NgramContains("description", term)
        product_text: Any = NgramContains("product_text", term)
        name = Q(customer_id__in=Customer.objects.filter(NgramContains("name", term)).values("id"))
    else:
        description = Q(description__icontains=term)
        product_text = Q(product_text__icontains=term)
        name = Q(customer__name__icontains=term)
    conditions = [Q(number=term.upper()), description, name]
    if not masked:
        conditions.append(Q(customer__phone__endswith=term))
    return [
        *conditions,
        product_text,
        Q(product__model__icontains=term),
        # A model typed without its dashes ("XD1001" for XD-1001).
        Q(product_id__in=products_by_bare_model(term).values("pk")),
        Q(batch_no__iexact=term),
        *whole_contact,
    ]


def search_q(term: str, *, masked: bool) -> Q:
    """Every condition of a search term as one filter (the queue's own order reads it)."""
    combined = Q()
    for condition in _search_conditions(term, masked=masked, indexed=False):
        combined |= condition
    return combined


def _by_ngram(term: str) -> bool:
    """A one- or two-character term on PostgreSQL: no trigram to look up, so the n-gram index answers
    (migration complaints 0006); a backslash (which a tsquery would read as an escape) is left to the
    plain comparison."""
    return connection.vendor == "postgresql" and len(term) <= 2 and "\\" not in term


class NgramContains(Func):
    """`column` contains the 1–2 character `term`, as the expression the n-gram index is built on
    (PostgreSQL only: migration complaints 0006)."""

    output_field = BooleanField()

    def __init__(self, column: str, term: str) -> None:
        super().__init__(F(column), Value(term))

    # none of Func's template arguments apply
    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        column_sql, column_params = compiler.compile(self.source_expressions[0])
        term_sql, term_params = compiler.compile(self.source_expressions[1])
        sql = f"closeloop_ngrams(UPPER({column_sql}::text)) @@ quote_literal(UPPER({term_sql}))::tsquery"
        return sql, [*column_params, *term_params]


def search_matches(term: str, *, masked: bool) -> list[int] | None:
    """The ids of every complaint the term matches (one query, a UNION of indexed lookups), or None when
    there are more than QUEUE_COUNT_CAP: then the term is common, and filtering the queue in its own
    order finds a page after a few rows, while a rare term is answered from the indexes alone."""
    cap = settings.QUEUE_COUNT_CAP
    # One id query per condition, each served by its own index: an OR across the joined customer cannot
    # use any.
    ids = Complaint.objects.order_by().values_list("id", flat=True)
    conditions = _search_conditions(term, masked=masked, indexed=True)
    first, *rest = [ids.filter(condition) for condition in conditions]
    # UNION ALL under a LIMIT stops reading the indexes early (a plain UNION would first gather every
    # match of a common term). The limit lets each branch contribute up to the cap, so the distinct ids
    # under it are all of them whenever there are no more than the cap.
    every = first.union(*rest, all=True)[: cap * (len(rest) + 1) + 1]
    sql, params = every.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT id FROM ({sql}) matches LIMIT %s", [*params, cap + 1])  # noqa: S608
        found = [row[0] for row in cursor.fetchall()]
    return None if len(found) > cap else found


# --- a page ----------------------------------------------------------------------------------------


def queue_page(queryset: QuerySet[Complaint], start: int, stop: int) -> list[Complaint]:
    """One page of a queue in two statements: the page's ids in the queue's own order (the complaint table
    alone, read along its sort index and stopped at the page's end), then those rows with their joined ones.

    In one statement the joins let SQLite's planner start from a small table instead: with the complaint
    types first it read every complaint of each type and sorted them all for 25 rows (the list API at
    100,000 complaints: 177 ms; bench/helpdesk/compare.py). `values_list` leaves `select_related` out, so
    only the joins a filter needs remain in the first statement."""
    ids = list(queryset.values_list("pk", flat=True)[start:stop])
    if not ids:
        return []
    rows = {row.pk: row for row in queryset.order_by().filter(pk__in=ids)}
    return [rows[pk] for pk in ids if pk in rows]


# --- counting --------------------------------------------------------------------------------------


class CappedPaginator(Paginator):
    """Counts no further than QUEUE_COUNT_CAP (a million-row count costs more than the page): above it,
    `count` is the cap and `capped` is True ("10,000+"). A queryset may say it is already known to be
    longer (`count_at_least`, set by a search that overflowed), and then nothing is counted."""

    @cached_property
    def _counted(self) -> int:
        """How many, up to cap + 1."""
        cap = settings.QUEUE_COUNT_CAP
        if getattr(self.object_list, "count_at_least", 0) >= cap:
            return cap + 1
        # Unordered: the database stops after cap + 1 rows instead of sorting them all first.
        return self.object_list.order_by()[: cap + 1].count()  # type: ignore[attr-defined]  # a queryset here

    @property
    def count(self) -> int:
        return min(self._counted, settings.QUEUE_COUNT_CAP)

    @property
    def capped(self) -> bool:
        return self._counted > settings.QUEUE_COUNT_CAP

    def page(self, number: Any) -> Page:
        """As Paginator's, except that a page is not cut short at a capped count."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if not self.capped and top + self.orphans >= self.count:
            top = self.count
        rows = queue_page(self.object_list, bottom, top)  # type: ignore[arg-type]  # a queryset here
        return self._get_page(rows, number, self)  # type: ignore[attr-defined]  # Django's, not in the stubs

    @cached_property
    def num_pages(self) -> int:
        # At least one page, even when the cap is 0 and the count says nothing.
        return max(super().num_pages, 1 if self.capped else 0)


def queue_count(queryset: QuerySet[Complaint]) -> tuple[int, bool]:
    """(count, capped) of a queue, as CappedPaginator counts it."""
    paginator = CappedPaginator(queryset, 1)
    return paginator.count, paginator.capped


def complaint_get(*, user: AnyUser, number: str) -> Complaint:
    """One complaint the user may see; Complaint.DoesNotExist otherwise (a 404, never a 403, so that
    the existence of other departments' complaints is not revealed)."""
    return (
        complaints_visible_to(user)
        .select_related("customer", "product__line", "type", "department", "registered_by", "duplicate_of", "repeat_of")
        .get(number=number)
    )


def complaint_deadlines(*, complaint: Complaint) -> QuerySet[Deadline]:
    """Open deadlines first (nearest due first), then the closed ones."""
    return complaint.deadlines.order_by(F("met_at").asc(nulls_first=True), "due_at")


def complaint_last_event_id(*, complaint_id: int) -> int:
    """The newest event of the complaint (0: none): the version the live page compares (index
    event_complaint_at covers the complaint's rows)."""
    return Event.objects.filter(complaint_id=complaint_id).order_by("-id").values_list("id", flat=True).first() or 0


def complaint_changed_since(*, complaint_id: int, event_id: int) -> bool:
    return Event.objects.filter(complaint_id=complaint_id, id__gt=event_id).exists()


def complaint_timeline(*, complaint: Complaint) -> QuerySet[Event]:
    """The complaint's events and those of the duplicates merged into it (both histories, one query);
    `complaint_number` tells which complaint each event belongs to."""
    # An IN over the complaint and its duplicates' ids, so that the events' (complaint, at) index is used;
    # an OR across the join to the complaint made the database scan every event.
    ids = Complaint.objects.filter(Q(pk=complaint.pk) | Q(duplicate_of=complaint)).values("pk")
    return (
        Event.objects.filter(complaint_id__in=ids)
        .select_related("actor")
        .annotate(complaint_number=F("complaint__number"))
        .order_by("at", "id")
    )


def complaint_mails_out(*, complaint: Complaint) -> QuerySet[Notification]:
    """The e-mails we wrote to the customer about the complaint (its outbox rows), oldest first: with the
    mails received, which are events, they make the thread the timeline shows."""
    return Notification.objects.filter(complaint=complaint, method=Method.EMAIL, recipient__isnull=True).order_by(
        "created_at", "id"
    )


@dataclass(frozen=True)
class ContactView:
    name: str
    phone: str
    email: str
    address: str
    masked: bool


def customer_contact(*, customer: Customer, user: AnyUser) -> ContactView:
    if can_see_personal_data(user):
        return ContactView(customer.name, customer.phone, customer.email, customer.address, masked=False)
    return ContactView(
        customer.name,
        mask_phone(customer.phone),
        mask_email(customer.email),
        mask_address(customer.address),
        masked=True,
    )


# --- call-centre screen pop ------------------------------------------------------------------------


def customer_by_phone(*, phone: str) -> Customer | None:
    """The customer intake would reuse for this stored-form phone number (complaints.services.
    customer_find: the oldest one, anonymised customers never), or None."""
    if not phone:
        return None
    return _CUSTOMER_BY_PHONE.first(phone=phone)  # every intake asks: built once (core/prepared.py)


_CUSTOMER_BY_PHONE = Prepared(
    lambda: Customer.objects.filter(phone=Param("phone"), anonymised_at__isnull=True).order_by("id")[:1]
)


def customer_open_complaints(*, customer: Customer, user: AnyUser) -> QuerySet[Complaint]:
    """The customer's open complaints this user may see, nearest deadline first."""
    running = Deadline.objects.filter(task__isnull=True, met_at__isnull=True).order_by("due_at")
    return (
        complaints_visible_to(user)
        .filter(customer=customer, status__in=OPEN_STATUSES)
        .select_related("type", "product")
        .prefetch_related(Prefetch("deadlines", queryset=running, to_attr="open_deadlines"))
        .order_by(*SORTS["due"])
    )


def customers_open_complaints(
    *, user: AnyUser, customers: list[Customer], product: str = ""
) -> dict[int, list[Complaint]]:
    """Customer id → their open complaints this user may see (one query), each with `same_product`:
    whether it is about `product` (a model, with or without its dashes, or the text typed for it);
    those first, then the nearest deadline."""
    if not customers:
        return {}
    complaints = list(
        complaints_visible_to(user)
        .filter(customer__in=customers, status__in=OPEN_STATUSES)
        .select_related("product")
        .order_by(*SORTS["due"])
    )
    wanted = bare_model(product)
    by_customer: dict[int, list[Complaint]] = {}
    for complaint in complaints:
        model = complaint.product.model if complaint.product is not None else complaint.product_text
        complaint.same_product = bool(wanted) and bare_model(model) == wanted  # type: ignore[attr-defined]  # for the template
        by_customer.setdefault(complaint.customer_id, []).append(complaint)
    for rows in by_customer.values():
        rows.sort(key=lambda c: not c.same_product)  # type: ignore[attr-defined]  # set above
    return by_customer
