"""History import: complaints a desk kept in its 投诉汇总表 before CloseLoop, written as they ended.

`complaints_import` validates every row first and collects every error (row, column, why); a dry run,
or any error, writes nothing. Otherwise the whole file is written in one transaction with bulk inserts
(all or nothing: a desk re-runs a corrected file, never half of one).

An imported complaint is history, not work: it is written in a final state with its own dates, gets
no SLA policy and no clocks, sends no `complaint_registered` signal (so no defect spike check), tells
nobody and is not checked for being a repeat. Because its dates are its historical ones it counts in
the KPIs of the month it was received (and its follow-up in the month it was done), and a later
complaint of the same customer about the same model finds it as the earlier one (complaints/repeats.py).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from closeloop import authz
from closeloop.complaints.lifecycle import Status
from closeloop.complaints.models import Channel, Complaint, DailySequence, Event, Priority, Via
from closeloop.complaints.services import normalize_phone
from closeloop.core.errors import DomainError
from closeloop.core.inserts import insert_rows, insert_values
from closeloop.core.statistics import planner_statistics_refresh
from closeloop.core.types import AnyUser, User
from closeloop.directory.models import ComplaintType, Customer, CustomerKind, Department, Product
from closeloop.directory.regions import city_standard, province_standard
from closeloop.directory.selectors import EMAIL
from closeloop.followup.models import FollowUp, FollowUpMethod, FollowUpOutcome, SatisfactionLevel
from closeloop.followup.selectors import active_levels
from closeloop.imports.columns import BY_KEY, COLUMNS, column_for
from closeloop.imports.models import ImportRun, ImportSource
from closeloop.imports.reading import SourceRow

BATCH_SIZE = 1000
# The final states a history may hold. A duplicate needs the complaint it duplicates: import it as invalid.
IMPORTABLE = (Status.RESOLVED, Status.CLOSED, Status.ARCHIVED, Status.INVALID)
RESOLVED_STATES = (Status.RESOLVED, Status.CLOSED, Status.ARCHIVED)
# Our own numbers: TS + yyyymmdd + '-' + 4 digits. Anything else a former system used is kept as it is
# when it is short enough and made of letters, digits and - _ / . only.
OWN_NUMBER = re.compile(r"^TS(\d{8})-(\d{4})$")
FOREIGN_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-_/.]{0,19}$")
DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T](\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?)?$")

Progress = Callable[[str, int, int], None]


def import_allowed(user: AnyUser | None) -> None:
    """Only administrators import history (the CLI runs as the server's operator and asks nobody)."""
    authz.require(user, "imports.import_complaints")


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class ImportResult:
    dry_run: bool
    rows: int
    errors: list[RowError] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)
    customers_created: int = 0
    followups: int = 0
    run: ImportRun | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Row:
    """One validated row, ready to become a complaint."""

    line: int
    number: str
    status: str
    received_at: datetime.datetime
    resolved_at: datetime.datetime | None
    closed_at: datetime.datetime | None
    channel: str
    customer_kind: str
    customer_name: str
    phone: str
    email: str
    province: str
    city: str
    product: Product | None
    product_text: str
    batch_no: str
    type: ComplaintType
    department: Department | None
    priority: int
    description: str
    result: str
    outcome: str
    satisfaction: SatisfactionLevel | None
    followup_at: datetime.datetime | None


def _key(text: object) -> str:
    return "".join(str(text).split()).lower()


# Words desks write in their sheets besides our labels.
ALIASES: dict[str, str] = {
    "已结案": Status.CLOSED,
    "结案": Status.CLOSED,
    "已关闭": Status.CLOSED,
    "关闭": Status.CLOSED,
    "已完结": Status.CLOSED,
    "解决": Status.RESOLVED,
    "已处理": Status.RESOLVED,
    "归档": Status.ARCHIVED,
    "无效投诉": Status.INVALID,
    "热线": Channel.HOTLINE,
    "400热线": Channel.HOTLINE,
    "电话": Channel.HOTLINE,
    "网站": Channel.WEB,
    "网络": Channel.WEB,
    "邮件": Channel.EMAIL,
    "电子邮件": Channel.EMAIL,
    "微信": Channel.SOCIAL,
    "微博": Channel.SOCIAL,
    "直接来访": Channel.WALK_IN,
    "终端客户": CustomerKind.END_USER,
    "客户": CustomerKind.END_USER,
    "商场": CustomerKind.STORE,
    "联系不上": FollowUpOutcome.UNREACHABLE,
}


def _choices(*pairs: Iterable[tuple[Any, Any]]) -> dict[str, Any]:
    """Accept a value's code, its English or Chinese label (or one part of a label such as
    "经销商 / 代理商"), or a word of ALIASES for that value."""
    index: dict[str, Any] = {}
    values: set[Any] = set()
    for items in pairs:
        for value, label in items:
            values.add(value)
            index[_key(value)] = value
            for language in ("zh-hans", "en"):
                with translation.override(language):
                    text = str(label)
                index[_key(text)] = value
                for part in text.split("/"):
                    index.setdefault(_key(part), value)
    for word, value in ALIASES.items():
        if value in values:
            index.setdefault(_key(word), value)
    return index


class _Lookups:
    """The reference data rows are checked against, read once per import."""

    def __init__(self, product_cells: Iterable[object]) -> None:
        self.channels = _choices(Channel.choices)
        self.kinds = _choices(CustomerKind.choices)
        self.statuses = _choices([(s.value, s.label) for s in IMPORTABLE])
        self.all_statuses = _choices(Status.choices)
        self.outcomes = _choices(FollowUpOutcome.choices)
        self.priorities = _choices(Priority.choices, [(1, "紧急"), (2, "重要"), (3, "一般")])
        self.types: dict[str, ComplaintType] = {}
        for ctype in ComplaintType.objects.filter(is_active=True).select_related("default_department"):
            for name in (ctype.code, ctype.name, ctype.name_en):
                if name:
                    self.types[_key(name)] = ctype
        self.departments: dict[str, Department] = {}
        for department in Department.objects.filter(is_active=True):
            for name in (department.code, department.name, department.name_en):
                if name:
                    self.departments[_key(name)] = department
        self.levels: dict[str, SatisfactionLevel] = {}
        for level in active_levels():
            for name in (level.code, level.label_zh, level.label_en):
                self.levels[_key(name)] = level
        models = {_model_of(value) for value in product_cells} - {""}
        self.products = {
            product.model.lower(): product
            for product in Product.objects.annotate(lower_model=Lower("model")).filter(
                lower_model__in=[m.lower() for m in models]
            )
        }


def _model_of(value: object) -> str:
    """The model in a product cell: the summary table writes `XD-100 LED吸顶灯`, a desk may write the model only."""
    text = _text(value)
    return text.split()[0] if text else ""


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _datetime(value: object) -> datetime.datetime | None:
    """A cell as an aware instant: Excel dates and times, ISO 8601, 2025/3/14 9:30, 2025年3月14日.
    Times without an offset are local (settings.TIME_ZONE); a date alone is its local midnight."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, datetime.date):
        moment = datetime.datetime.combine(value, datetime.time())
    else:
        text = str(value).strip()
        match = DATE.match(text)
        if match:
            year, month, day, hour, minute, second = (int(part) if part else 0 for part in match.groups())
            moment = datetime.datetime(year, month, day, hour, minute, second)
        else:
            moment = datetime.datetime.fromisoformat(text)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


class _RowChecker:
    """Validates one row at a time, collecting every error of the file."""

    def __init__(self, lookups: _Lookups, now: datetime.datetime) -> None:
        self.lookups = lookups
        self.now = now
        self.errors: list[RowError] = []

    def fail(self, line: int, header: str, message: str) -> None:
        self.errors.append(RowError(line, header, message))

    def check(self, line: int, cells: dict[str, tuple[str, Any]]) -> _Row | None:
        """`cells`: column key → (header as written, value)."""
        before = len(self.errors)
        look = self.lookups

        def header(key: str) -> str:
            if key in cells:
                return cells[key][0]
            column = BY_KEY[key]
            return column.zh if translation.get_language() == "zh-hans" else column.en

        texts = {key: _text(value) for key, (_header, value) in cells.items()}

        def text(key: str) -> str:
            return texts.get(key, "")

        def when(key: str) -> datetime.datetime | None:
            try:
                moment = _datetime(cells.get(key, ("", None))[1])
            except (ValueError, TypeError, OverflowError):
                self.fail(line, header(key), _("Not a date: write it as 2025-03-14 or 2025-03-14 09:30."))
                return None
            if moment is not None and moment > self.now:
                self.fail(line, header(key), _("The date cannot be in the future."))
            return moment

        def choice(key: str, index: dict[str, Any], default: Any, message: str) -> Any:
            value = text(key)
            if not value:
                return default
            found = index.get(_key(value))
            if found is None:
                self.fail(line, header(key), message % {"value": value})
            return found

        for column in COLUMNS:
            if column.required and not text(column.key) and column.key != "received_at":
                self.fail(line, header(column.key), _("This column must be filled in."))

        number = text("number")
        if number:
            own = OWN_NUMBER.match(number.upper())
            if own:
                number = number.upper()  # ts20250314-0007 is ours, written in lower case
                try:
                    datetime.datetime.strptime(own.group(1), "%Y%m%d")
                except ValueError:
                    self.fail(line, header("number"), _("%(value)s has no valid date.") % {"value": number})
            elif not FOREIGN_NUMBER.match(number):
                self.fail(
                    line,
                    header("number"),
                    _("A number has at most 20 letters, digits and - _ / . characters: %(value)s") % {"value": number},
                )

        received_at = when("received_at")
        if received_at is None and not text("received_at"):
            self.fail(line, header("received_at"), _("This column must be filled in."))
        resolved_at = when("resolved_at")
        closed_at = when("closed_at")
        followup_at = when("followup_at")

        status = look.statuses.get(_key(text("status")), "") if text("status") else ""
        if text("status") and not status:
            message = (
                _("Only final states can be imported (resolved, closed, archived, invalid), not %(value)s.")
                if _key(text("status")) in look.all_statuses
                else _("Unknown status %(value)s.")
            )
            self.fail(line, header("status"), message % {"value": text("status")})
        result = text("result")
        if status in RESOLVED_STATES:
            if resolved_at is None and not text("resolved_at"):
                self.fail(line, header("resolved_at"), _("A resolved complaint needs the date it was resolved."))
            if not result:
                self.fail(line, header("result"), _("A resolved complaint needs its result."))
        if status in (Status.CLOSED, Status.ARCHIVED) and closed_at is None and not text("closed_at"):
            self.fail(line, header("closed_at"), _("A closed complaint needs the date it was closed."))
        if status == Status.RESOLVED and closed_at is not None:
            self.fail(line, header("closed_at"), _("A complaint that is only resolved has no closing date."))
        if status == Status.INVALID:
            if not result:
                self.fail(line, header("result"), _("Give the reason why the complaint is invalid."))
            if resolved_at is not None or closed_at is not None:
                self.fail(line, header("status"), _("An invalid complaint has no resolved or closing date."))
        if received_at and resolved_at and resolved_at < received_at:
            self.fail(line, header("resolved_at"), _("Resolved before it was received."))
        if resolved_at and closed_at and closed_at < resolved_at:
            self.fail(line, header("closed_at"), _("Closed before it was resolved."))

        channel = choice("channel", look.channels, Channel.HOTLINE, _("Unknown channel %(value)s."))
        kind = choice("customer_kind", look.kinds, CustomerKind.END_USER, _("Unknown complainant type %(value)s."))
        priority = choice("priority", look.priorities, Priority.NORMAL, _("Unknown priority %(value)s."))
        ctype = None
        if text("type"):
            # The summary table writes a sub-type as "parent / child".
            ctype = look.types.get(_key(text("type").split("/")[-1]))
            if ctype is None:
                self.fail(line, header("type"), _("Unknown complaint type %(value)s.") % {"value": text("type")})
        department = choice("department", look.departments, None, _("Unknown department %(value)s."))
        if department is None and ctype is not None and not text("department"):
            department = ctype.default_department

        phone = ""
        try:
            phone = normalize_phone(text("customer_phone"))
        except DomainError as exc:
            self.fail(line, header("customer_phone"), str(exc.message))
        email = text("customer_email").lower()
        if email and not EMAIL.match(email):
            self.fail(line, header("customer_email"), _("Enter a valid e-mail address."))
        if not text("customer_phone") and not email:
            self.fail(line, header("customer_phone"), _("Give a phone number or an e-mail address."))

        outcome = choice("followup_outcome", look.outcomes, "", _("Unknown follow-up outcome %(value)s."))
        satisfaction = choice("satisfaction", look.levels, None, _("Unknown satisfaction %(value)s."))
        if (outcome or satisfaction) and status and status not in RESOLVED_STATES:
            self.fail(line, header("followup_outcome"), _("Only a resolved complaint has a follow-up."))
        if satisfaction is not None and not outcome:
            outcome = FollowUpOutcome.SATISFIED if satisfaction.counts_as_satisfied else FollowUpOutcome.UNSATISFIED
        if followup_at and resolved_at and followup_at < resolved_at:
            self.fail(line, header("followup_at"), _("Followed up before it was resolved."))

        model = _model_of(cells.get("product", ("", None))[1])
        product = look.products.get(model.lower()) if model else None
        if len(self.errors) > before or received_at is None or ctype is None:
            return None
        return _Row(
            line=line,
            number=number,
            status=status,
            received_at=received_at,
            resolved_at=resolved_at,
            closed_at=closed_at,
            channel=channel,
            customer_kind=kind,
            customer_name=text("customer_name")[:100],
            phone=phone,
            email=email,
            province=province_standard(text("province"))[:30],
            city=city_standard(text("city"))[:30],
            product=product,
            product_text="" if product else text("product")[:150],
            batch_no=text("batch")[:60],
            type=ctype,
            department=department,
            priority=int(priority),
            description=text("description"),
            result=result,
            outcome=outcome,
            satisfaction=satisfaction,
            followup_at=followup_at,
        )


UNKNOWN = "?"


def _cells(
    line: int, values: dict[str, Any], errors: list[RowError], keys: dict[str, str | None]
) -> dict[str, tuple[str, Any]]:
    """{column key: (header, value)}; `keys` remembers each header's column for the rest of the file."""
    cells: dict[str, tuple[str, Any]] = {}
    for header, value in values.items():
        key = keys.get(header, UNKNOWN)
        if key == UNKNOWN:
            try:
                key = keys[header] = column_for(header)
            except KeyError:
                keys[header] = UNKNOWN
        if key == UNKNOWN:
            errors.append(RowError(line, header, _("Unknown column.")))
        elif key is not None:
            cells[key] = (header, value)
    return cells


def _check_numbers(rows: list[_Row], headers: dict[int, str], errors: list[RowError]) -> None:
    """Original numbers must be unique in the file and new to the database."""
    seen: dict[str, int] = {}
    for row in rows:
        if not row.number:
            continue
        if row.number in seen:
            errors.append(
                RowError(
                    row.line,
                    headers[row.line],
                    _("%(value)s is already on row %(row)s.") % {"value": row.number, "row": seen[row.number]},
                )
            )
        else:
            seen[row.number] = row.line
    numbers = list(seen)
    taken: set[str] = set()
    for start in range(0, len(numbers), 500):
        taken.update(Complaint.objects.filter(number__in=numbers[start : start + 500]).values_list("number", flat=True))
    for number in sorted(taken, key=lambda n: seen[n]):
        errors.append(
            RowError(seen[number], headers[seen[number]], _("Complaint %(value)s already exists.") % {"value": number})
        )


def complaints_import_check(
    *, rows: list[SourceRow], now: datetime.datetime | None = None, progress: Progress | None = None
) -> tuple[list[_Row], list[RowError]]:
    """Every row checked; the errors sorted by row."""
    now = now or timezone.now()
    errors: list[RowError] = []
    keys: dict[str, str | None] = {}
    all_cells = [(line, _cells(line, values, errors, keys)) for line, values in rows]
    lookups = _Lookups(cells["product"][1] for _line, cells in all_cells if "product" in cells)
    checker = _RowChecker(lookups, now)
    valid: list[_Row] = []
    number_headers: dict[int, str] = {}
    for index, (line, cells) in enumerate(all_cells, start=1):
        number_headers[line] = cells.get("number", (BY_KEY["number"].zh, None))[0]
        row = checker.check(line, cells)
        if row is not None:
            valid.append(row)
        if progress and index % BATCH_SIZE == 0:
            progress("check", index, len(rows))
    errors.extend(checker.errors)
    _check_numbers(valid, number_headers, errors)
    if not rows:
        errors.append(RowError(1, "", _("The file has no rows to import.")))
    errors.sort(key=lambda error: error.row)
    return valid, errors


def _customers(rows: list[_Row]) -> tuple[dict[int, Customer], int]:
    """Each row's customer, matched as intake does: the same phone (else e-mail) is the same person,
    who keeps what they had and gets what they lacked; nobody known → created (once per file)."""
    phones = {row.phone for row in rows if row.phone}
    emails = {row.email for row in rows if row.email}
    by_phone: dict[str, Customer] = {}
    by_email: dict[str, Customer] = {}
    phone_list, email_list = list(phones), list(emails)
    for start in range(0, len(phone_list), 500):
        for customer in Customer.objects.filter(
            phone__in=phone_list[start : start + 500], anonymised_at__isnull=True
        ).order_by("-id"):
            by_phone[customer.phone] = customer  # the oldest wins, as intake's order_by("id").first()
    for start in range(0, len(email_list), 500):
        for customer in Customer.objects.filter(
            email__in=email_list[start : start + 500], anonymised_at__isnull=True
        ).order_by("-id"):
            by_email[customer.email] = customer
    new: list[Customer] = []
    changed: dict[int, Customer] = {}
    chosen: dict[int, Customer] = {}
    for row in rows:
        customer = by_phone.get(row.phone) if row.phone else None  # type: ignore[assignment]  # loops above used the name
        if customer is None and row.email:
            customer = by_email.get(row.email)
        if customer is None:
            customer = Customer(
                kind=row.customer_kind,
                name=row.customer_name,
                phone=row.phone,
                email=row.email,
                province=row.province,
                city=row.city,
            )
            new.append(customer)
            if row.phone:
                by_phone[row.phone] = customer
            if row.email:
                by_email.setdefault(row.email, customer)
        elif customer.pk is not None:
            for attr in ("phone", "email", "province", "city"):
                value = getattr(row, attr)
                if value and not getattr(customer, attr):
                    setattr(customer, attr, value)
                    changed[customer.pk] = customer
        chosen[row.line] = customer
    insert_rows(new)
    if changed:
        Customer.objects.bulk_update(list(changed.values()), ["phone", "email", "province", "city"], batch_size=500)
    return chosen, len(new)


def _numbers(rows: list[_Row]) -> dict[int, str]:
    """Original numbers kept; the others numbered like intake (TS + the day received + the day's next
    sequence). Each day's sequence ends past every number used, ours or kept, so intake never repeats one."""
    zone = timezone.get_default_timezone()
    kept = {row.number for row in rows if row.number}
    last: dict[datetime.date, int] = {}
    for number in kept:
        own = OWN_NUMBER.match(number)
        if own:
            day = datetime.datetime.strptime(own.group(1), "%Y%m%d").date()
            last[day] = max(last.get(day, 0), int(own.group(2)))
    days = {timezone.localtime(row.received_at, zone).date() for row in rows if not row.number} | set(last)
    # Locked: an intake of today takes the next number from this row in its own transaction.
    stored = dict(DailySequence.objects.select_for_update().filter(day__in=days).values_list("day", "last"))
    sequence = {day: max(stored.get(day, 0), last.get(day, 0)) for day in days}
    assigned: dict[int, str] = {}
    for row in rows:
        if row.number:
            assigned[row.line] = row.number
            continue
        day = timezone.localtime(row.received_at, zone).date()
        while True:
            sequence[day] += 1
            if sequence[day] > 9999:
                raise DomainError(_("More than 9999 complaints on %(day)s.") % {"day": day}, field="received_at")
            number = f"TS{day:%Y%m%d}-{sequence[day]:04d}"
            if number not in kept:
                break
        assigned[row.line] = number
    # A number another way wrote without the sequence (there should be none) is found here, before the insert.
    new = [n for line, n in assigned.items() if n not in kept]
    for start in range(0, len(new), 500):
        clash = Complaint.objects.filter(number__in=new[start : start + 500]).values_list("number", flat=True).first()
        if clash:
            raise DomainError(_("Complaint %(value)s already exists.") % {"value": clash}, field="number")
    DailySequence.objects.bulk_create(
        [DailySequence(day=day, last=last) for day, last in sequence.items() if last != stored.get(day, 0)],
        update_conflicts=True,
        unique_fields=["day"],
        update_fields=["last"],
        batch_size=BATCH_SIZE,
    )
    return assigned


def _write(
    *,
    rows: list[_Row],
    actor: User | None,
    source: str,
    file_name: str,
    now: datetime.datetime,
    progress: Progress | None,
) -> ImportResult:
    by = actor if actor is not None and actor.is_authenticated else None
    run = ImportRun.objects.create(at=now, by=by, source=source, file_name=file_name[:255], rows=len(rows))
    customers, created = _customers(rows)
    numbers = _numbers(rows)
    via = Via.API if source == ImportSource.API else Via.SYSTEM
    followups = 0
    for start in range(0, len(rows), BATCH_SIZE):
        batch = rows[start : start + BATCH_SIZE]
        # Rows of values straight from the checked data, no model instances (core/inserts.py).
        complaints = []
        for row in batch:
            customer = customers[row.line]
            resolved = row.status in RESOLVED_STATES
            complaints.append(
                {
                    "number": numbers[row.line],
                    "status": row.status,
                    "channel": row.channel,
                    "priority": row.priority,
                    "received_at": row.received_at,
                    "registered_at": row.received_at,
                    "customer_id": customer.pk,
                    "product_id": row.product.pk if row.product else None,
                    "product_text": row.product_text,
                    "batch_no": row.batch_no,
                    "province": row.province or customer.province,
                    "city": row.city or customer.city,
                    "type_id": row.type.pk,
                    "department_id": row.department.pk if row.department else None,
                    "description": row.description,
                    "resolution": row.result if resolved else "",
                    "status_reason": "" if resolved else row.result,
                    "resolved_at": row.resolved_at,
                    "closed_at": row.closed_at,
                    "archived_at": row.closed_at if row.status == Status.ARCHIVED else None,
                    "imported_at": now,
                }
            )
        complaint_ids = insert_values(Complaint, complaints)
        events = []
        found = []
        for row, complaint_id in zip(batch, complaint_ids, strict=True):
            events.append(
                {
                    "complaint_id": complaint_id,
                    "at": now,
                    "actor_id": by.pk if by else None,
                    "via": via,
                    "action": "imported",
                    "after": {
                        "import": run.pk,
                        "file": run.file_name,
                        "row": row.line,
                        "status": row.status,
                        "number_kept": bool(row.number),
                    },
                }
            )
            if row.outcome:
                done = row.followup_at or row.closed_at or row.resolved_at
                found.append(
                    {
                        "complaint_id": complaint_id,
                        "round": 1,
                        # an outcome needs a resolved complaint, which needs resolved_at (_Reader)
                        "created_at": row.resolved_at or done,
                        "method": FollowUpMethod.PHONE,
                        "outcome": row.outcome,
                        "solved": row.outcome == FollowUpOutcome.SATISFIED,
                        "satisfaction_id": row.satisfaction.pk if row.satisfaction else None,
                        "completed_at": done,
                    }
                )
        insert_values(Event, events)
        insert_values(FollowUp, found)
        followups += len(found)
        if progress:
            progress("write", start + len(batch), len(rows))
    run.customers_created = created
    run.followups = followups
    run.save(update_fields=["customers_created", "followups"])
    return ImportResult(
        dry_run=False,
        rows=len(rows),
        numbers=[numbers[row.line] for row in rows],
        customers_created=created,
        followups=followups,
        run=run,
    )


def complaints_import(
    *,
    rows: list[SourceRow],
    actor: User | None,
    source: str,
    file_name: str = "",
    dry_run: bool = False,
    now: datetime.datetime | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Check every row; unless it is a dry run and when nothing is wrong, write them all in one transaction.
    `rows`: (row number to report, {header: value}); headers in Chinese, English or as column keys."""
    now = now or timezone.now()
    valid, errors = complaints_import_check(rows=rows, now=now, progress=progress)
    if errors or dry_run:
        return ImportResult(dry_run=dry_run, rows=len(rows), errors=errors)
    with transaction.atomic():
        result = _write(rows=valid, actor=actor, source=source, file_name=file_name, now=now, progress=progress)
    planner_statistics_refresh()  # thousands of rows at once: the planner's picture of the tables changed
    return result


def template_headers(language: str | None = None) -> list[str]:
    language = language or settings.LANGUAGE_CODE
    return [column.zh if language.startswith("zh") else column.en for column in COLUMNS]
