"""Realistic, deterministic demo and bulk data: customers and complaints with their whole history.

The same seed on the same database at the same `now` gives the same rows (every draw comes from one
`random.Random(seed)`, and each complaint's story from a generator seeded by it). Rows are written in
batches, one transaction per batch, with `bulk.BulkWriter` (executemany on SQLite, COPY on PostgreSQL);
no service is called per row, and memory stays bounded whatever the count: batches are streamed, and
only a bounded pool of recent customers and complaints is kept for repeats and duplicates.

The rows are what the services would have written:

- intake (`complaints.services.complaint_register`): numbers follow the daily `TS+YYYYMMDD-NNNN` scheme
  and advance `DailySequence` (a live intake continues without collision or gap); customers are
  reused by phone like `customer_find_or_create`; the intake clocks (acknowledge, first response,
  resolution) on the policy `policy_for` picks; a repeat complaint (domain rule 5: same complainant,
  same model, within `REPEAT_WINDOW_DAYS` after the earlier one was resolved) is marked as
  `detect_repeat` would, with its `repeat_detected` event;
- everything after (`story.Life`): acknowledgement, dispatch to departments with their tasks and
  clocks, verification, contacts, progress, solutions with approvals and execution, replies, feedback
  forms with root causes, resolve with its follow-up, follow-up attempts and satisfaction, reopen with
  the second-result clock and new tasks, close and archive — each with its events — and the SLA sweep's
  warnings, breaches and escalations replayed on every clock.
"""

from __future__ import annotations

import datetime
import json
import math
import random
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from closeloop import authz
from closeloop.complaints.lifecycle import Status
from closeloop.complaints.models import Channel, Complaint, DailySequence, Event, Priority, Via
from closeloop.core.types import User
from closeloop.demo.bulk import BulkWriter, Rec
from closeloop.demo.story import Choice, Context, Life
from closeloop.directory.models import ComplaintType, Customer, CustomerKind, Department, Product, ProductLine
from closeloop.followup.models import FollowUp, FollowUpAttempt
from closeloop.handling.models import (
    ContactLog,
    ExecutionStep,
    FeedbackForm,
    ProgressEntry,
    Solution,
    SolutionApproval,
    Task,
)
from closeloop.sla.models import Deadline, Policy
from closeloop.sla.services import policy_for

DATA_DIR = Path(__file__).resolve().parent / "data"
SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = datetime.UTC

CHANNEL_WEIGHTS = {
    Channel.HOTLINE: 34,
    Channel.WEB: 17,
    Channel.EMAIL: 8,
    Channel.SOCIAL: 6,
    Channel.FAX: 1,
    Channel.LETTER: 2,
    Channel.SALES_REP: 6,
    Channel.DEALER: 10,
    Channel.WALK_IN: 4,
    Channel.API: 12,
}
# Who enters a complaint of each channel: agents at the desk, the customer on the portal, the
# mail intake, or an integrating system through the API.
CHANNEL_VIA = {Channel.WEB: Via.PORTAL, Channel.EMAIL: Via.EMAIL, Channel.API: Via.API}
KIND_WEIGHTS = {CustomerKind.END_USER: 70, CustomerKind.DEPOSIT: 12, CustomerKind.DEALER: 10, CustomerKind.STORE: 8}
TYPE_WEIGHTS = {"quality": 40, "service": 11, "logistics": 12, "delivery": 10, "price": 6, "installation": 15}
PRIORITY_WEIGHTS = {Priority.URGENT: 8, Priority.IMPORTANT: 25, Priority.NORMAL: 67}
# Complaints per hour of the day (local time): the hotline is staffed 8–21 h, web and API never sleep.
HOUR_WEIGHTS = [1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 3, 8, 10, 10, 9, 6, 8, 10, 10, 9, 8, 6, 5, 5, 4, 3, 2]
WEEKDAY_WEIGHTS = [1.3, 1.1, 1.0, 1.0, 1.0, 0.8, 0.7]  # Monday first

REPEAT_CUSTOMER_SHARE = 0.12
REPEAT_SHARE = 0.027  # the customer complains again about the same model after it was resolved
FREE_TEXT_PRODUCT_SHARE = 0.05
DUPLICATE_SHARE = 0.03
FURNITURE_WORDS = ("床", "沙发", "桌", "柜", "椅", "茶几")  # a free-text product that is furniture
CUSTOMER_POOL_SIZE = 20_000  # customers kept for reuse (repeat complaints); bounded for 1M-row runs
RESOLVED_POOL_SIZE = 5_000  # recently resolved complaints a repeat may come back to


@cache
def _data(name: str) -> dict[str, Any]:
    return json.loads((DATA_DIR / f"{name}.json").read_text(encoding="utf-8"))


def catalogue_ensure() -> list[Product]:
    """The demo product lines and products (models like XD-1001). Idempotent: existing rows are kept."""
    products = []
    for line_data in _data("products")["lines"]:
        line, _created = ProductLine.objects.get_or_create(
            code=line_data["code"], defaults={"name": line_data["name"], "name_en": line_data["name_en"]}
        )
        for index, (name, name_en) in enumerate(line_data["products"], start=1):
            product, _created = Product.objects.get_or_create(
                model=f"{line_data['prefix']}-{1000 + index}",
                defaults={"line": line, "name": name, "name_en": name_en},
            )
            products.append(product)
    return products


def days_covering_months(now: datetime.datetime, months: int = 4) -> int:
    """Days from the first day of the month `months` before now's month to today (local): enough for
    monthly reports of the last `months` full months, compared with each other, and the current one."""
    today = timezone.localdate(now, SHANGHAI)
    year, month = today.year, today.month - months
    while month < 1:
        year, month = year - 1, month + 12
    first = datetime.date(year, month, 1)
    return (today - first).days + 1


@dataclass
class SeedResult:
    complaints: int = 0
    customers: int = 0
    events: int = 0
    tasks: int = 0
    followups: int = 0
    deadlines: int = 0
    rows: int = 0  # every row written, all tables
    seconds: float = 0.0
    numbers: list[str] = field(default_factory=list)  # first and last number written

    @property
    def seconds_per_100k(self) -> float:
        return self.seconds / self.complaints * 100_000 if self.complaints else 0.0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


@dataclass
class _Planned:
    """One complaint being generated, with the facts its story is drawn from."""

    complaint: Rec
    customer: Rec
    customer_is_new: bool
    via: str
    actor: User | None
    ctype: ComplaintType
    policy: Policy | None
    texts: dict[str, Any]
    family: str = "lamp"  # of the product (lamp or furniture): which texts fit
    duplicate_of: _Planned | None = None
    life: Life | None = None


CHANNEL = Choice(CHANNEL_WEIGHTS.items())
KIND = Choice(KIND_WEIGHTS.items())
PRIORITY = Choice(PRIORITY_WEIGHTS.items())


def _product_key(product: Product | None, product_text: str) -> Any:
    """What `detect_repeat` compares: the model, else the free text (case-insensitive), else nothing."""
    if product is not None:
        return product.pk
    text = product_text.strip().lower()
    return ("text", text) if text else None


class ComplaintGenerator:
    """Draws complaints day by day in registration order, each with its whole story."""

    def __init__(
        self,
        *,
        seed: int,
        days: int,
        now: datetime.datetime,
        desk_users: list[User],
        api_user: User | None,
        context: Context,
    ) -> None:
        self.rng = random.Random(seed)
        self.days = days
        self.now = now
        self.desk_users = desk_users
        self.api_user = api_user
        self.context = context
        names = _data("names")
        self.surnames = [(s, py) for s, py, _w in names["surnames"]]
        self.surname_weights = [w for _s, _py, w in names["surnames"]]
        self.given = names["given"]
        self.regions = _data("regions")
        self.province_weights = [p["weight"] for p in self.regions["provinces"]]
        self.texts = _data("texts")
        families = {line["code"]: line["family"] for line in _data("products")["lines"]}
        line_weights = {line["code"]: line["weight"] for line in _data("products")["lines"]}
        catalogue = catalogue_ensure()
        self.products = [(p, families.get(p.line.code, "lamp")) for p in catalogue]
        self.product_weights = [line_weights.get(p.line.code, 1) for p in catalogue]
        self.families = {p.pk: family for p, family in self.products}
        self.types = list(ComplaintType.objects.filter(is_active=True).order_by("sort_order", "code"))
        if not self.types:
            raise RuntimeError("No active complaint types; run the migrations first.")
        self.type_weights = [TYPE_WEIGHTS.get(t.code, 4) for t in self.types]
        self.customer_pool: list[Rec] = []
        self.recent: deque[_Planned] = deque(maxlen=200)
        self.resolved: deque[Rec] = deque(maxlen=RESOLVED_POOL_SIZE)
        self.policies: dict[tuple[str, int | None], Policy | None] = {}
        self.repeat_window = datetime.timedelta(days=settings.REPEAT_WINDOW_DAYS)
        # A different affine permutation of 0..10^8-1 per seed: phone suffixes never repeat in a run.
        self.phone_mul = self.rng.randrange(1, 10**8, 2)
        while self.phone_mul % 5 == 0:
            self.phone_mul = self.rng.randrange(1, 10**8, 2)
        self.phone_add = self.rng.randrange(10**8)
        self.customers_made = 0

    # --- when ---------------------------------------------------------------------------------
    def day_counts(self, total: int) -> list[tuple[datetime.date, int]]:
        """Spread `total` complaints over the last `days` days: weekdays busier, a rising trend, the
        weeks after the 618 and Double-11 sales busiest, today only up to now."""
        today = timezone.localdate(self.now, SHANGHAI)
        local_now = self.now.astimezone(SHANGHAI)
        days = [today - datetime.timedelta(days=offset) for offset in range(self.days - 1, -1, -1)]
        weights = []
        for index, day in enumerate(days):
            weight = WEEKDAY_WEIGHTS[day.weekday()] * (0.8 + 0.4 * index / max(len(days) - 1, 1))
            if (day.month == 11 and 12 <= day.day <= 30) or (day.month == 6 and 19 <= day.day <= 30):
                weight *= 1.6
            weight *= self.rng.uniform(0.85, 1.15)
            if day == today:
                weight *= sum(HOUR_WEIGHTS[: local_now.hour + 1]) / sum(HOUR_WEIGHTS)
            weights.append(weight)
        scale = total / sum(weights)
        exact = [w * scale for w in weights]
        counts = [math.floor(x) for x in exact]
        # Largest remainders get the leftovers, so the counts add up exactly.
        for index in sorted(range(len(days)), key=lambda i: exact[i] - counts[i], reverse=True)[: total - sum(counts)]:
            counts[index] += 1
        return list(zip(days, counts, strict=True))

    def times_on(self, day: datetime.date, count: int) -> list[datetime.datetime]:
        start = datetime.datetime.combine(day, datetime.time(), SHANGHAI)
        limit = (self.now - start).total_seconds() if day == timezone.localdate(self.now, SHANGHAI) else 86400
        hours = [h for h in range(24) if h * 3600 < limit] or [0]
        picked = self.rng.choices(hours, weights=[HOUR_WEIGHTS[h] for h in hours], k=count)
        # The current hour is only partly over: draw within what has passed of it.
        seconds = sorted(h * 3600 + self.rng.random() * max(min(3600.0, limit - h * 3600 - 1), 0) for h in picked)
        return [(start + datetime.timedelta(seconds=s)).astimezone(UTC) for s in seconds]

    # --- who ------------------------------------------------------------------------------------
    def person_name(self) -> tuple[str, str]:
        surname, surname_py = self.rng.choices(self.surnames, weights=self.surname_weights)[0]
        given, given_py = self.rng.choice(self.given)
        return surname + given, surname_py + given_py

    def region(self) -> tuple[str, str]:
        province = self.rng.choices(self.regions["provinces"], weights=self.province_weights)[0]
        return province["name"], self.rng.choice(province["cities"])

    def address(self, province: str, city: str, kind: str) -> str:
        rng = self.rng
        place = city if province == city else province + city
        street = f"{place}{rng.choice(self.regions['roads'])}{rng.randint(1, 999)}号"
        if kind in (CustomerKind.DEALER, CustomerKind.STORE):
            return street + (f"{rng.randint(1, 3)}楼{rng.randint(1, 80):02d}铺" if rng.random() < 0.5 else "")
        return (
            f"{street}{rng.choice(self.regions['communities'])}"
            f"{rng.randint(1, 30)}栋{rng.randint(1, 4)}单元{rng.randint(1, 33)}{rng.randint(1, 4):02d}室"
        )

    def new_customer(self, kind: str) -> Rec:
        rng = self.rng
        names = _data("names")
        name, pinyin = self.person_name()
        province, city = self.region()
        organisation = ""
        if kind == CustomerKind.DEALER:
            organisation = (
                f"{city.removesuffix('市')}{rng.choice(names['dealer_words'])}{rng.choice(names['dealer_suffixes'])}"
            )
        elif kind == CustomerKind.STORE:
            organisation = f"{rng.choice(names['stores'])}（{city.removesuffix('市')}店）"
        index = self.customers_made
        self.customers_made += 1
        suffix = (self.phone_mul * index + self.phone_add) % 10**8
        phone = f"{rng.choice(names['mobile_prefixes'])}{suffix:08d}"
        email = ""
        email_share = 0.7 if kind in (CustomerKind.DEALER, CustomerKind.STORE) else 0.25
        if rng.random() < 0.03:
            phone = ""  # reached us only by e-mail
            email_share = 1.0
        if rng.random() < email_share:
            domain = rng.choice(names["email_domains"])
            # The permuted index keeps e-mail addresses unique within a run, like the phones.
            local = str(10_000 + suffix) if domain == "qq.com" else f"{pinyin}{suffix % 100_000:05d}"
            email = f"{local}@{domain}"
        return Rec(
            kind=kind,
            name=name,
            organisation=organisation,
            phone=phone,
            email=email,
            address=self.address(province, city, kind) if rng.random() < 0.85 else "",
            province=province,
            city=city,
            anonymised_at=None,
            history={},
        )

    def customer_for(self, channel: str) -> tuple[Rec, bool]:
        rng = self.rng
        if self.customer_pool and rng.random() < REPEAT_CUSTOMER_SHARE:
            return rng.choice(self.customer_pool), False
        if channel == Channel.DEALER:
            kind = CustomerKind.DEALER if rng.random() < 0.8 else CustomerKind.END_USER
        elif channel == Channel.SALES_REP:
            kind = rng.choice([CustomerKind.STORE, CustomerKind.DEALER, CustomerKind.END_USER])
        else:
            kind = KIND(rng)
        customer = self.new_customer(kind)
        # Dealers and stores come back more often than end users.
        for _repeat in range(3 if kind in (CustomerKind.DEALER, CustomerKind.STORE) else 1):
            if len(self.customer_pool) < CUSTOMER_POOL_SIZE:
                self.customer_pool.append(customer)
            else:
                self.customer_pool[rng.randrange(CUSTOMER_POOL_SIZE)] = customer
        return customer, True

    def desk_user(self) -> User | None:
        return self.rng.choice(self.desk_users) if self.desk_users else None

    # --- what -----------------------------------------------------------------------------------
    def text(self, section: str, ctype: str, family: str, product: str) -> str:
        by_type = self.texts[section].get(ctype) or self.texts[section]["other"]
        templates = by_type.get(family) or by_type.get("*") or next(iter(by_type.values()))
        return self.rng.choice(templates).format(product=product or "产品", days=self.rng.randint(2, 90))

    def policy(self, customer_kind: str, product_line_id: int | None) -> Policy | None:
        key = (customer_kind, product_line_id)
        if key not in self.policies:
            try:
                self.policies[key] = policy_for(customer_kind=customer_kind, product_line_id=product_line_id)
            except Policy.DoesNotExist:
                self.policies[key] = None
        return self.policies[key]

    def comes_back(self, received_at: datetime.datetime) -> Rec | None:
        """An earlier complaint, resolved within the repeat window, whose customer complains again."""
        if not self.resolved:
            return None
        for _try in range(6):
            earlier = self.rng.choice(self.resolved)
            first = earlier.resolve_times[0]
            if received_at - self.repeat_window <= first <= received_at - datetime.timedelta(hours=1):
                return earlier
        return None

    def repeat_of(self, complaint: Rec, customer: Rec) -> tuple[Rec | None, datetime.datetime | None]:
        """`detect_repeat` on what the database holds at registration: the customer's earlier complaint
        about the same model most recently resolved within the window before this one was received."""
        key = complaint.product_key
        if key is None:
            return None, None
        best, best_at = None, None
        received_at, registered_at = complaint.received_at, complaint.registered_at
        for earlier in customer.history.get(key, ()):
            if earlier.received_at > received_at or not earlier.resolve_times:
                continue
            # resolved_at as stored when this complaint is registered: its latest resolve by then.
            stored = [t for t in earlier.resolve_times if t <= registered_at]
            if not stored:
                continue
            resolved_at = stored[-1]
            if received_at - self.repeat_window <= resolved_at <= received_at and (
                best_at is None or resolved_at >= best_at
            ):
                best, best_at = earlier, resolved_at
        return best, best_at

    def plan(self, registered_at: datetime.datetime) -> _Planned:
        rng = self.rng
        channel = CHANNEL(rng)
        via = CHANNEL_VIA.get(channel, Via.DESK)
        actor = self.api_user if via == Via.API else (self.desk_user() if via == Via.DESK else None)
        received_at = {
            Channel.LETTER: registered_at - datetime.timedelta(hours=rng.uniform(20, 120)),
            Channel.FAX: registered_at - datetime.timedelta(minutes=rng.uniform(10, 600)),
            Channel.SALES_REP: registered_at - datetime.timedelta(hours=rng.uniform(1, 48)),
            Channel.HOTLINE: registered_at - datetime.timedelta(minutes=rng.uniform(1, 12)),
            Channel.WALK_IN: registered_at - datetime.timedelta(minutes=rng.uniform(5, 30)),
        }.get(channel, registered_at)

        original = None
        if self.recent and rng.random() < DUPLICATE_SHARE:
            candidate = rng.choice(self.recent)
            if (
                candidate.duplicate_of is None
                and candidate.complaint.status not in (Status.INVALID, Status.DUPLICATE)
                and registered_at - candidate.complaint.registered_at < datetime.timedelta(days=3)
            ):
                original = candidate
        earlier = self.comes_back(received_at) if original is None and rng.random() < REPEAT_SHARE else None
        if original is not None:
            customer, customer_is_new = original.customer, False
            product, product_text = original.complaint.product, original.complaint.product_text
            ctype = original.ctype
        elif earlier is not None:
            customer, customer_is_new = earlier.customer, False
            product, product_text, ctype = earlier.product, earlier.product_text, earlier.ctype
        else:
            customer, customer_is_new = self.customer_for(channel)
            product, _family = rng.choices(self.products, weights=self.product_weights)[0]
            product_text = ""
            if rng.random() < FREE_TEXT_PRODUCT_SHARE:
                product_text, product = rng.choice(_data("products")["free_text"]), None
            ctype = rng.choices(self.types, weights=self.type_weights)[0]
        if product is not None:
            family = self.families.get(product.pk, "lamp")
        else:
            family = "furniture" if any(word in product_text for word in FURNITURE_WORDS) else "lamp"
        product_name = product.name if product else ""

        purchase_date = None
        batch_no = order_no = ""
        if rng.random() < 0.8:
            purchase_date = (received_at - datetime.timedelta(days=rng.randint(2, 400))).astimezone(SHANGHAI).date()
            if product is not None and rng.random() < 0.85:
                made = purchase_date - datetime.timedelta(days=rng.randint(10, 90))
                batch_no = f"{made:%y%m}-{rng.choice('ABCD')}{rng.randint(1, 12):02d}"
        if rng.random() < 0.6:
            order_no = rng.choice(
                [
                    f"JD{rng.randrange(10**11, 10**12)}",
                    f"TB{rng.randrange(10**15, 10**16)}",
                    f"SO{received_at.astimezone(SHANGHAI):%Y%m%d}{rng.randrange(10**4):04d}",
                ]
            )
        priority = PRIORITY(rng)
        policy = self.policy(customer.kind, product.line_id if product else None)
        complaint = Rec(
            status=Status.REGISTERED.value,
            channel=str(channel),
            priority=int(priority),
            received_at=received_at,
            registered_at=registered_at,
            registered_by_id=actor,
            customer_id=customer,
            product_id=product,
            product_text=product_text,
            batch_no=batch_no,
            purchase_date=purchase_date,
            order_no=order_no,
            province=customer.province,
            city=customer.city,
            type_id=ctype,
            department_id=ctype.default_department_id,
            description=self.text("descriptions", ctype.code, family, product_name or product_text),
            onsite_situation=(
                rng.choice(self.texts["onsite"]).format(product=product_name or "产品") if rng.random() < 0.1 else ""
            ),
            demand=rng.choice(self.texts["demands"]) if rng.random() < 0.85 else "",
            external_ref=(
                f"{rng.choice(self.texts['external_prefixes'])}-{registered_at.astimezone(SHANGHAI):%Y%m%d}-"
                f"{rng.randrange(10**6):06d}"
                if channel == Channel.API
                else ""
            ),
            acknowledged_at=None,
            resolved_at=None,
            resolution="",
            status_reason="",
            duplicate_of_id=None,
            updated_at=registered_at,
            repeat_of_id=None,
            repeat_reason="",
            reopen_count=0,
            closed_at=None,
            archived_at=None,
            anonymised_at=None,
            sla_policy_id=policy,
            next_due_at=None,
            next_warn_at=None,
            waiting_since=None,
            waiting_reason="",
        )
        # The generator's own facts (not columns).
        complaint.customer, complaint.product, complaint.product_text = customer, product, product_text
        complaint.product_name, complaint.ctype = product_name, ctype
        complaint.product_key = _product_key(product, product_text)
        complaint.resolve_times = []
        complaint.repeat_of_id, complaint.repeat_resolved_at = self.repeat_of(complaint, customer)
        planned = _Planned(
            complaint, customer, customer_is_new, via, actor, ctype, policy, self.texts, family, duplicate_of=original
        )
        life = Life(self.context, planned, random.Random(rng.getrandbits(64)))
        life.run()
        planned.life = life
        if complaint.product_key is not None:
            customer.history.setdefault(complaint.product_key, []).append(complaint)
        if complaint.resolve_times:
            self.resolved.append(complaint)
        self.recent.append(planned)
        return planned

    def plans(self, total: int) -> Iterator[_Planned]:
        for day, count in self.day_counts(total):
            for registered_at in self.times_on(day, count):
                yield self.plan(registered_at)


def _reuse_existing_customers(batch: list[_Planned]) -> None:
    """A generated phone (or e-mail) that an earlier customer already has means the same person,
    as in `customer_find_or_create`: point at the existing row instead of creating a twin."""
    new = [p.customer for p in batch if p.customer_is_new and p.customer.id is None]
    phones = {c.phone for c in new if c.phone}
    emails = {c.email for c in new if not c.phone and c.email}
    fields = ("id", "province", "city")
    by_phone = {
        row[0]: row[1:]
        for row in Customer.objects.filter(phone__in=phones, anonymised_at__isnull=True)
        .order_by("-id")
        .values_list("phone", *fields)
    }
    by_email = {
        row[0]: row[1:]
        for row in Customer.objects.filter(email__in=emails, anonymised_at__isnull=True)
        .order_by("-id")
        .values_list("email", *fields)
    }
    for planned in batch:
        customer = planned.customer
        existing = by_phone.get(customer.phone) if customer.phone else by_email.get(customer.email)
        if planned.customer_is_new and existing is not None and customer.id is None:
            customer.id, customer.province, customer.city = existing
            planned.customer_is_new = False
        if not planned.customer_is_new and planned.life is not None:
            planned.life.events[0].after["customer_created"] = False
    for planned in batch:
        # Intake takes the region from the customer record when the complaint names none.
        planned.complaint.province = planned.customer.province
        planned.complaint.city = planned.customer.city


def _number(batch: list[_Planned]) -> None:
    """Hand out the day's next numbers in registration order, exactly as intake would, and advance
    `DailySequence`. Runs inside the batch transaction with the day rows locked."""
    days = sorted({timezone.localdate(p.complaint.registered_at, SHANGHAI) for p in batch})
    DailySequence.objects.bulk_create([DailySequence(day=d, last=0) for d in days], ignore_conflicts=True)
    last = dict(DailySequence.objects.select_for_update(no_key=True).filter(day__in=days).values_list("day", "last"))
    for planned in batch:
        day = timezone.localdate(planned.complaint.registered_at, SHANGHAI)
        last[day] += 1
        planned.complaint.number = f"TS{day:%Y%m%d}-{last[day]:04d}"
        if planned.complaint.external_ref:
            # Unique per channel like intake's (complaint_external_ref_unique), also when seeding twice:
            # the shop's prefix, the day and the day's sequence.
            prefix = planned.complaint.external_ref.split("-")[0]
            planned.complaint.external_ref = f"{prefix}-{day:%Y%m%d}-{last[day]:06d}"
    for day in days:
        DailySequence.objects.filter(day=day).update(last=last[day])


def _repeat_reasons(batch: list[_Planned]) -> None:
    """The reason intake writes on a repeat (it names the earlier complaint's number, known by now)."""
    from closeloop.complaints.repeats import repeat_reason_text

    for planned in batch:
        c = planned.complaint
        earlier = c.repeat_of_id
        if earlier is None:
            continue
        product = SimpleNamespace(model=c.product.model) if c.product is not None else None
        # Stand-ins with only the fields the text reads: the rows are not written yet.
        c.repeat_reason = repeat_reason_text(
            complaint=SimpleNamespace(  # type: ignore[arg-type]  # stand-ins with only the fields read
                product_id=c.product.pk if c.product else None,
                product=product,
                product_text=c.product_text,
                received_at=c.received_at,
            ),
            earlier=SimpleNamespace(number=earlier.number, resolved_at=c.repeat_resolved_at),  # type: ignore[arg-type]  # stand-ins with only the fields read
        )
        # a planned repeat has its life, which wrote the repeat event
        event = planned.life.repeat_event  # type: ignore[union-attr]
        event.after, event.note = {"repeat_of": earlier.number}, c.repeat_reason  # type: ignore[union-attr]  # as above


# What each life contributes, in writing order: (model, attribute of Life, numbered first).
_LIFE_TABLES: list[tuple[type, str, bool]] = [
    (Task, "tasks", True),
    (Solution, "solutions", True),
    (ExecutionStep, "steps", True),
    (SolutionApproval, "approvals", False),
    (ContactLog, "contacts", True),
    (ProgressEntry, "progress", True),
    (FeedbackForm, "forms", True),
    (FollowUp, "followups", True),
    (FollowUpAttempt, "attempts", True),
    (Deadline, "deadlines", False),
    (Event, "events", False),
]


def _write(batch: list[_Planned], result: SeedResult, writer: BulkWriter) -> None:
    with transaction.atomic():
        written = writer.rows_written
        _reuse_existing_customers(batch)
        customers: list[Rec] = []
        seen: set[int] = set()
        for planned in batch:
            customer = planned.customer
            if customer.id is None and id(customer) not in seen:
                seen.add(id(customer))
                customer.created_at = planned.complaint.registered_at
                customers.append(customer)
        writer.number(Customer, customers)
        writer.insert(Customer, customers)
        _number(batch)
        complaints = [p.complaint for p in batch]
        writer.number(Complaint, complaints)
        _repeat_reasons(batch)
        writer.insert(Complaint, complaints)
        counts = {}
        for model, attribute, numbered in _LIFE_TABLES:
            recs = [rec for planned in batch for rec in getattr(planned.life, attribute)]
            if numbered:
                writer.number(model, recs)
            writer.insert(model, recs, with_id=numbered)
            counts[attribute] = len(recs)
    result.complaints += len(batch)
    result.customers += len(customers)
    result.events += counts["events"]
    result.tasks += counts["tasks"]
    result.followups += counts["followups"]
    result.deadlines += counts["deadlines"]
    result.rows += writer.rows_written - written
    if not result.numbers:
        result.numbers.append(batch[0].complaint.number)
    result.numbers[1:] = [batch[-1].complaint.number]
    for planned in batch:
        planned.life = None  # the batch's records are written: let them go
        _slim(planned.complaint)


# What later complaints still read of a written one (duplicates, repeats): the rest is let go.
_KEEP = frozenset(
    {"id", "number", "status", "received_at", "registered_at", "resolve_times", "customer", "product"}
    | {"product_text", "product_key", "ctype", "duplicate_of_id", "repeat_of_id"}
)


def _slim(complaint: Rec) -> None:
    complaint.__dict__ = {k: v for k, v in complaint.__dict__.items() if k in _KEEP}


def handling_departments() -> list[Department]:
    """The departments that get tasks: the types' departments and the second ones, not customer service."""
    from closeloop.demo.story import DESK_DEPARTMENTS, SECOND_DEPARTMENTS

    codes = set(ComplaintType.objects.filter(is_active=True).values_list("default_department__code", flat=True))
    codes |= {code for seconds in SECOND_DEPARTMENTS.values() for code in seconds}
    return list(Department.objects.filter(code__in=codes - DESK_DEPARTMENTS - {None}, is_active=True).order_by("code"))


def seed_complaints(
    *,
    count: int,
    seed: int = 1,
    days: int = 365,
    batch_size: int = 2000,
    now: datetime.datetime | None = None,
    desk_users: list[User] | None = None,
    api_user: User | None = None,
    handlers_per_department: int | None = None,
    progress: Callable[[SeedResult], None] | None = None,
) -> SeedResult:
    """Generate `count` complaints received over the last `days` days, with their history up to `now`,
    and write them in batches.

    `desk_users` register desk-channel complaints and do customer service's steps; `api_user` owns the
    API-channel ones (both default to the active agents/supervisors and the owner of an API token).
    Handlers come from the departments' memberships; departments with fewer than
    `handlers_per_department` (default: 3 to 20 by `count`) get demo handlers created."""
    from closeloop.demo.staff import handlers_for, staff_ensure

    if count < 0 or days < 1 or batch_size < 1:
        raise ValueError("count must be >= 0, days and batch_size >= 1")
    now = now or timezone.now()
    if desk_users is None or api_user is None:
        default_desk, default_api = default_actors()
        desk_users = default_desk if desk_users is None else desk_users
        api_user = default_api if api_user is None else api_user
    started = time.perf_counter()
    result = SeedResult()
    if count == 0:
        return result
    staff = staff_ensure(
        departments=handling_departments(),
        handlers_per_department=handlers_per_department or handlers_for(count),
        desk=desk_users,
        api=api_user,
        seed=seed,
    )
    with translation.override(settings.LANGUAGE_CODE):
        context = Context(now=now, staff=staff, seed=seed)
        generator = ComplaintGenerator(
            seed=seed, days=days, now=now, desk_users=desk_users, api_user=api_user, context=context
        )
        writer = BulkWriter()
        batch: list[_Planned] = []
        for planned in generator.plans(count):
            batch.append(planned)
            if len(batch) >= batch_size:
                _write(batch, result, writer)
                batch = []
                if progress is not None:
                    result.seconds = time.perf_counter() - started
                    progress(result)
        if batch:
            _write(batch, result, writer)
    result.seconds = time.perf_counter() - started
    return result


def default_actors() -> tuple[list[User], User | None]:
    """Desk staff (agents and supervisors without an API token) and the owner of an active API token."""

    from closeloop.core.models import ApiToken

    desk = list(
        authz.recipients.members_of_roles(authz.DESK).exclude(api_tokens__isnull=False).distinct().order_by("id")
    )
    token = ApiToken.objects.filter(revoked_at__isnull=True).select_related("user").order_by("id").first()
    return desk, token.user if token else None
