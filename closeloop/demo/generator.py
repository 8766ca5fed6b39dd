"""Realistic, deterministic demo and bulk data: a catalogue, customers and complaints with their events.

The same seed on the same database gives the same rows (everything is drawn from one
`random.Random(seed)`). Complaints are written with `bulk_create`, one transaction per batch, so a
million of them is a matter of minutes; the intake service is never called per row. The rows are
still what the services would have written: numbers follow the daily `TS+YYYYMMDD-NNNN` scheme of
`services.next_complaint_number` (and the `DailySequence` rows are advanced, so the next live
intake continues without collision or gap), customers are reused by phone like
`services.customer_find_or_create`, and every complaint has the events `complaint_register` and
`complaint_transition` would have recorded, with consistent timestamps, and the SLA deadlines
intake opens (met or cancelled by the transitions it went through, `next_due_at` mirrored).
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
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from closeloop.complaints.lifecycle import TRANSITIONS, Status
from closeloop.complaints.models import Channel, Complaint, DailySequence, Event, Priority, Via
from closeloop.directory.models import ComplaintType, Customer, CustomerKind, Product, ProductLine
from closeloop.sla.milestones import COMPLAINT_MILESTONES_AT_INTAKE
from closeloop.sla.models import Deadline, Policy, PolicyTarget
from closeloop.sla.services import _compute, policy_calendar, policy_for

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
FREE_TEXT_PRODUCT_SHARE = 0.05
INVALID_SHARE = 0.05
DUPLICATE_SHARE = 0.03
ON_THE_SPOT_SHARE = 0.25
CUSTOMER_POOL_SIZE = 20_000  # customers kept for reuse (repeat complaints); bounded for 1M-row runs


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


@dataclass
class SeedResult:
    complaints: int = 0
    customers: int = 0
    events: int = 0
    seconds: float = 0.0
    numbers: list[str] = field(default_factory=list)  # first and last number written

    @property
    def seconds_per_100k(self) -> float:
        return self.seconds / self.complaints * 100_000 if self.complaints else 0.0


@dataclass
class _Planned:
    """One complaint being generated, with the facts its events are drawn from."""

    complaint: Complaint
    customer: Customer
    customer_is_new: bool
    via: str
    actor: AbstractBaseUser | None
    # (action, time, actor, before, after, note) for each transition after registration.
    transitions: list[tuple[str, datetime.datetime, AbstractBaseUser | None, dict, dict, str]]
    duplicate_of: _Planned | None = None


def _weighted(rng: random.Random, weights: dict[Any, float]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _utc(value: datetime.datetime) -> str:
    return value.astimezone(UTC).isoformat()


class ComplaintGenerator:
    """Draws complaints day by day in registration order and writes them batch by batch."""

    def __init__(
        self,
        *,
        seed: int,
        days: int,
        now: datetime.datetime,
        desk_users: list[AbstractBaseUser],
        api_user: AbstractBaseUser | None,
    ) -> None:
        self.rng = random.Random(seed)
        self.days = days
        self.now = now
        self.desk_users = desk_users
        self.api_user = api_user
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
        self.types = list(ComplaintType.objects.filter(is_active=True).order_by("sort_order", "code"))
        if not self.types:
            raise RuntimeError("No active complaint types; run the migrations first.")
        self.type_weights = [TYPE_WEIGHTS.get(t.code, 4) for t in self.types]
        self.customer_pool: list[Customer] = []
        self.recent: deque[_Planned] = deque(maxlen=200)
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
        return [start + datetime.timedelta(seconds=s) for s in seconds]

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

    def new_customer(self, kind: str) -> Customer:
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
        return Customer(
            kind=kind,
            name=name,
            organisation=organisation,
            phone=phone,
            email=email,
            address=self.address(province, city, kind) if rng.random() < 0.85 else "",
            province=province,
            city=city,
        )

    def customer_for(self, channel: str) -> tuple[Customer, bool]:
        rng = self.rng
        if self.customer_pool and rng.random() < REPEAT_CUSTOMER_SHARE:
            return rng.choice(self.customer_pool), False
        if channel == Channel.DEALER:
            kind = CustomerKind.DEALER if rng.random() < 0.8 else CustomerKind.END_USER
        elif channel == Channel.SALES_REP:
            kind = rng.choice([CustomerKind.STORE, CustomerKind.DEALER, CustomerKind.END_USER])
        else:
            kind = _weighted(rng, KIND_WEIGHTS)
        customer = self.new_customer(kind)
        # Dealers and stores come back more often than end users.
        for _repeat in range(3 if kind in (CustomerKind.DEALER, CustomerKind.STORE) else 1):
            if len(self.customer_pool) < CUSTOMER_POOL_SIZE:
                self.customer_pool.append(customer)
            else:
                self.customer_pool[rng.randrange(CUSTOMER_POOL_SIZE)] = customer
        return customer, True

    def desk_user(self) -> AbstractBaseUser | None:
        return self.rng.choice(self.desk_users) if self.desk_users else None

    # --- what -----------------------------------------------------------------------------------
    def text(self, section: str, ctype: str, family: str, product: str) -> str:
        by_type = self.texts[section].get(ctype) or self.texts[section]["other"]
        templates = by_type.get(family) or by_type.get("*") or next(iter(by_type.values()))
        return self.rng.choice(templates).format(product=product or "产品", days=self.rng.randint(2, 90))

    def plan(self, registered_at: datetime.datetime) -> _Planned:
        rng = self.rng
        channel = _weighted(rng, CHANNEL_WEIGHTS)
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
        if original is not None:
            customer, customer_is_new = original.customer, False
            product, product_text = original.complaint.product, original.complaint.product_text
            ctype = original.complaint.type
            family = next((f for p, f in self.products if p == product), "lamp")
        else:
            customer, customer_is_new = self.customer_for(channel)
            product, family = rng.choices(self.products, weights=self.product_weights)[0]
            product_text = ""
            if rng.random() < FREE_TEXT_PRODUCT_SHARE:
                product_text, product = rng.choice(_data("products")["free_text"]), None
            ctype = rng.choices(self.types, weights=self.type_weights)[0]
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
                    f"SO{received_at:%Y%m%d}{rng.randrange(10**4):04d}",
                ]
            )
        complaint = Complaint(
            status=Status.REGISTERED,
            channel=channel,
            priority=_weighted(rng, PRIORITY_WEIGHTS),
            received_at=received_at,
            registered_at=registered_at,
            registered_by=actor,
            customer=customer,
            product=product,
            product_text=product_text,
            batch_no=batch_no,
            purchase_date=purchase_date,
            order_no=order_no,
            province=customer.province,
            city=customer.city,
            type=ctype,
            department_id=ctype.default_department_id,
            description=self.text("descriptions", ctype.code, family, product_name or product_text),
            onsite_situation=(
                rng.choice(self.texts["onsite"]).format(product=product_name or "产品") if rng.random() < 0.1 else ""
            ),
            demand=rng.choice(self.texts["demands"]) if rng.random() < 0.85 else "",
            external_ref=(
                f"{rng.choice(self.texts['external_prefixes'])}-{registered_at:%Y%m%d}-{rng.randrange(10**6):06d}"
                if channel == Channel.API
                else ""
            ),
        )
        planned = _Planned(complaint, customer, customer_is_new, via, actor, [], duplicate_of=original)
        self.lifecycle(planned)
        self.recent.append(planned)
        return planned

    def lifecycle(self, planned: _Planned) -> None:
        """Walk the complaint along the lifecycle as far as its age allows, recording each step."""
        rng = self.rng
        c = planned.complaint

        def step(action: str, at: datetime.datetime, values: dict[str, Any], note: str = "") -> bool:
            if at > self.now:
                return False
            before = {"status": c.status, **{k: getattr(c, k) if k != "duplicate_of" else None for k in values}}
            target = {
                "acknowledge": Status.ACKNOWLEDGED,
                "resolve": Status.RESOLVED,
                "invalidate": Status.INVALID,
                "mark_duplicate": Status.DUPLICATE,
            }[action]
            for key, value in values.items():
                if key != "duplicate_of":
                    setattr(c, key, value)
            c.status = target
            planned.transitions.append((action, at, self.desk_user(), before, {"status": target, **values}, note))
            return True

        ack_minutes = {Priority.URGENT: (3, 30), Priority.IMPORTANT: (10, 120), Priority.NORMAL: (20, 600)}[c.priority]
        acknowledged_at = c.registered_at + datetime.timedelta(minutes=rng.uniform(*ack_minutes))
        roll = rng.random()
        if planned.duplicate_of is not None or roll < INVALID_SHARE:
            if rng.random() < 0.3:
                step("acknowledge", acknowledged_at, {"acknowledged_at": acknowledged_at})
            at = max(c.acknowledged_at or c.registered_at, c.registered_at) + datetime.timedelta(
                minutes=rng.uniform(5, 1440)
            )
            if planned.duplicate_of is not None:
                reason = rng.choice(self.texts["duplicate_reasons"])
                step("mark_duplicate", at, {"status_reason": reason, "duplicate_of": None}, reason)
            else:
                reason = rng.choice(self.texts["invalid_reasons"])
                step("invalidate", at, {"status_reason": reason}, reason)
            return
        resolution = rng.choice(self.texts["resolutions"])
        if rng.random() < ON_THE_SPOT_SHARE:
            at = c.registered_at + datetime.timedelta(minutes=rng.uniform(3, 40))
            step("resolve", at, {"resolved_at": at, "resolution": resolution}, resolution)
            return
        if not step("acknowledge", acknowledged_at, {"acknowledged_at": acknowledged_at}):
            return
        # Handling takes hours to weeks; a long tail stays open.
        hours = rng.lognormvariate(math.log(48 if c.priority == Priority.NORMAL else 20), 1.0)
        at = acknowledged_at + datetime.timedelta(hours=hours)
        step("resolve", at, {"resolved_at": at, "resolution": resolution}, resolution)

    def plans(self, total: int) -> Iterator[_Planned]:
        for day, count in self.day_counts(total):
            for registered_at in self.times_on(day, count):
                yield self.plan(registered_at)


class _Clocks:
    """The SLA deadlines intake opens (`sla.services.deadlines_start`) and the transitions meet or
    cancel, computed in bulk with the same policy, calendar and targets."""

    def __init__(self, now: datetime.datetime) -> None:
        self.now = now
        self.policies: dict[tuple[str, int | None], Any] = {}
        self.calendars: dict[int, Any] = {}
        self.targets: dict[int, dict[str, Any]] = {}

    def policy(self, customer_kind: str, product_line_id: int | None) -> Any:
        key = (customer_kind, product_line_id)
        if key not in self.policies:
            try:
                self.policies[key] = policy_for(customer_kind=customer_kind, product_line_id=product_line_id)
            except Policy.DoesNotExist:
                self.policies[key] = None
        return self.policies[key]

    def deadlines(self, planned: _Planned) -> list[Any]:
        c = planned.complaint
        policy = self.policy(planned.customer.kind, c.product.line_id if c.product else None)
        c.sla_policy = policy
        if policy is None:
            return []
        if policy.pk not in self.calendars:
            self.calendars[policy.pk] = policy_calendar(policy)
            self.targets[policy.pk] = {t.milestone: t for t in PolicyTarget.objects.filter(policy=policy)}
        made, opened = [], {}
        for milestone in COMPLAINT_MILESTONES_AT_INTAKE:
            target = self.targets[policy.pk].get(milestone)
            if target is None:
                continue
            duration = target.for_priority(c.priority)
            due, warn = _compute(policy, self.calendars[policy.pk], duration, c.received_at)
            opened[milestone] = Deadline(
                complaint=c,
                milestone=milestone,
                policy=policy,
                duration=duration,
                assignee=planned.actor,
                started_at=c.received_at,
                due_at=due,
                warn_at=warn,
            )
            made.append(opened[milestone])
        for action, at, *_rest in planned.transitions:
            transition = TRANSITIONS[action]
            if getattr(transition, "cancels_deadlines", False):
                closing, cancelled = list(opened), True
            else:
                closing, cancelled = [m for m in getattr(transition, "meets", ()) if m in opened], False
            for milestone in closing:
                deadline = opened.pop(milestone)
                deadline.met_at, deadline.cancelled = at, cancelled
        for deadline in made:
            # The sweep warned and flagged breaches as they happened; do not replay them all at once.
            until = deadline.met_at or self.now
            deadline.warned_at = deadline.warn_at if deadline.warn_at <= until else None
            if deadline.due_at <= until:
                # As the sweep does at a breach: flagged, and escalated to the first level.
                deadline.breached_at = deadline.escalated_at = deadline.due_at
                deadline.escalation_level = 1
        nearest = min(opened.values(), key=lambda d: d.due_at, default=None)
        c.next_due_at = nearest.due_at if nearest else None
        c.next_warn_at = nearest.warn_at if nearest else None
        return made


def _reuse_existing_customers(batch: list[_Planned]) -> None:
    """A generated phone (or e-mail) that an earlier customer already has means the same person,
    as in `customer_find_or_create`: point at the existing row instead of creating a twin."""
    new = [p.customer for p in batch if p.customer_is_new]
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
        if planned.customer_is_new and existing is not None and customer.pk is None:
            customer.pk, customer.province, customer.city = existing
            customer._state.adding = False
            planned.customer_is_new = False
    for planned in batch:
        # Intake takes the region from the customer record when the complaint names none.
        planned.complaint.province = planned.customer.province
        planned.complaint.city = planned.customer.city


def _number(batch: list[_Planned]) -> None:
    """Hand out the day's next numbers in registration order, exactly as intake would, and advance
    `DailySequence`. Runs inside the batch transaction with the day rows locked."""
    days = sorted({timezone.localdate(p.complaint.registered_at, SHANGHAI) for p in batch})
    DailySequence.objects.bulk_create([DailySequence(day=d, last=0) for d in days], ignore_conflicts=True)
    last = dict(DailySequence.objects.select_for_update().filter(day__in=days).values_list("day", "last"))
    for planned in batch:
        day = timezone.localdate(planned.complaint.registered_at, SHANGHAI)
        last[day] += 1
        planned.complaint.number = f"TS{day:%Y%m%d}-{last[day]:04d}"
    for day in days:
        DailySequence.objects.filter(day=day).update(last=last[day])


def _events(planned: _Planned) -> list[Event]:
    c = planned.complaint
    events = [
        Event(
            complaint=c,
            at=c.registered_at,
            actor=planned.actor,
            via=planned.via,
            action="registered",
            before={},
            after={
                "status": Status.REGISTERED.value,
                "channel": c.channel,
                "priority": c.priority,
                "type": c.type.code,
                "customer": c.customer_id,
                "customer_created": planned.customer_is_new,
                "department": c.department_id,
                "attachments": 0,
                "sla_policy": c.sla_policy.code if c.sla_policy else None,
            },
        )
    ]
    for action, at, actor, before, after, note in planned.transitions:
        after = dict(after)
        if action == "mark_duplicate":
            after["duplicate_of"] = c.duplicate_of_id
        events.append(
            Event(
                complaint=c,
                at=at,
                actor=actor,
                via=Via.DESK,
                action=action,
                before={k: _utc(v) if isinstance(v, datetime.datetime) else v for k, v in before.items()},
                after={k: _utc(v) if isinstance(v, datetime.datetime) else v for k, v in after.items()},
                note=note,
            )
        )
    return events


def _write(batch: list[_Planned], result: SeedResult, clocks: _Clocks) -> None:
    with transaction.atomic():
        _reuse_existing_customers(batch)
        deadlines = [deadline for planned in batch for deadline in clocks.deadlines(planned)]
        seen: set[int] = set()
        customers = []
        for planned in batch:
            if planned.customer.pk is None and id(planned.customer) not in seen:
                seen.add(id(planned.customer))
                customers.append(planned.customer)
        Customer.objects.bulk_create(customers)
        _number(batch)
        complaints = [p.complaint for p in batch]
        for planned in batch:
            # Originals generated earlier (this batch or before) have their ids by now.
            original = planned.duplicate_of
            if original is not None and original.complaint.pk is not None:
                planned.complaint.duplicate_of_id = original.complaint.pk
        Complaint.objects.bulk_create(complaints)
        late = [p.complaint for p in batch if p.duplicate_of is not None and p.complaint.duplicate_of_id is None]
        for complaint in late:
            complaint.duplicate_of_id = next(p.duplicate_of.complaint.pk for p in batch if p.complaint is complaint)
        if late:
            Complaint.objects.bulk_update(late, ["duplicate_of"])
        events = [event for planned in batch for event in _events(planned)]
        Event.objects.bulk_create(events)
        if deadlines:
            Deadline.objects.bulk_create(deadlines)
        # bulk_create stamps `updated_at` (auto_now) with the seeding time; make it the last change.
        Complaint.objects.filter(pk__in=[c.pk for c in complaints]).update(
            updated_at=Coalesce("resolved_at", "acknowledged_at", "registered_at")
        )
    result.complaints += len(batch)
    result.customers += len(customers)
    result.events += len(events)
    if not result.numbers:
        result.numbers.append(batch[0].complaint.number)
    result.numbers[1:] = [batch[-1].complaint.number]


def seed_complaints(
    *,
    count: int,
    seed: int = 1,
    days: int = 365,
    batch_size: int = 5000,
    now: datetime.datetime | None = None,
    desk_users: list[AbstractBaseUser] | None = None,
    api_user: AbstractBaseUser | None = None,
    progress: Callable[[SeedResult], None] | None = None,
) -> SeedResult:
    """Generate `count` complaints received over the last `days` days and write them in batches.

    `desk_users` register desk-channel complaints and perform the transitions; `api_user` owns the
    API-channel ones (both default to the active agents/supervisors and the owner of an API token)."""
    if count < 0 or days < 1 or batch_size < 1:
        raise ValueError("count must be >= 0, days and batch_size >= 1")
    now = now or timezone.now()
    if desk_users is None or api_user is None:
        default_desk, default_api = default_actors()
        desk_users = default_desk if desk_users is None else desk_users
        api_user = default_api if api_user is None else api_user
    started = time.perf_counter()
    generator = ComplaintGenerator(seed=seed, days=days, now=now, desk_users=desk_users, api_user=api_user)
    result = SeedResult()
    clocks = _Clocks(now)
    batch: list[_Planned] = []
    for planned in generator.plans(count):
        batch.append(planned)
        if len(batch) >= batch_size:
            _write(batch, result, clocks)
            batch = []
            if progress is not None:
                result.seconds = time.perf_counter() - started
                progress(result)
    if batch:
        _write(batch, result, clocks)
    result.seconds = time.perf_counter() - started
    return result


def default_actors() -> tuple[list[AbstractBaseUser], AbstractBaseUser | None]:
    """Desk staff (agents and supervisors without an API token) and the owner of an active API token."""
    from django.contrib.auth import get_user_model

    from closeloop.core.models import ApiToken
    from closeloop.core.roles import Role

    user_model = get_user_model()
    desk = list(
        user_model.objects.filter(groups__name__in=[Role.AGENT, Role.CS_SUPERVISOR], is_active=True)
        .exclude(api_tokens__isnull=False)
        .distinct()
        .order_by("id")
    )
    token = ApiToken.objects.filter(revoked_at__isnull=True).select_related("user").order_by("id").first()
    return desk, token.user if token else None
