"""Early warning (kpis.md): complaints about one product model — and, where the complaint gives a batch
number, about that model and batch — reaching the rule's threshold within its sliding window raise
ONE alert to quality, listing them.

The key of a complaint is (model, batch as given, upper-cased). A complaint without a batch is about
the model whatever the batch: its key (model, "") counts every complaint of the model. A complaint
counts towards one spike only: complaints already in an alert (open, dismissed or turned into an
incident) or in an incident are not counted again, so a dismissed alert does not come back with the
next complaint, and a batch alert is not raised a second time as a model alert.

What happens to a new complaint (`spike_check`, run by the worker on the complaints it claims once a
minute, see claims.py):
1. already in an alert or incident, no catalogue model, or invalid/duplicate: nothing;
2. an incident that is not closed covers it (same model, and its batch or the incident is for the
   whole model): the complaint joins the incident;
3. an open alert covers it (same rule): it joins the alert — nothing new is raised;
4. otherwise the rule of the model's product line (else the default rule) is applied: if some window
   of `window_days` containing this complaint holds at least `threshold` countable complaints of the
   key, an alert is raised listing them and every active quality user is notified (in-app and e-mail).

Concurrent intakes: the check takes the product row's lock first (see `lock_product`), and the partial
unique constraint `defect_alert_one_open` backs it: a losing insert joins the alert that won.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from closeloop import authz
from closeloop.complaints.lifecycle import NOT_COUNTED_STATUSES
from closeloop.complaints.models import Complaint, Via
from closeloop.core.links import absolute_url
from closeloop.core.roles import Role
from closeloop.core.types import User
from closeloop.defects.models import AlertStatus, DefectAlert, DefectIncident, SpikeRule
from closeloop.defects.services.common import (
    LIVE_INCIDENT,
    batch_key,
    complaint_events,
    defect_event,
    lock_product,
)
from closeloop.directory.models import Product
from closeloop.notifications import texts
from closeloop.notifications.services import Message, notifications_build, notifications_queue

log = logging.getLogger(__name__)


class Outcome:
    NOTHING = "nothing"
    JOINED_INCIDENT = "joined_incident"
    JOINED_ALERT = "joined_alert"
    RAISED = "raised"


@dataclass
class SpikeResult:
    outcome: str = Outcome.NOTHING
    alert: DefectAlert | None = None
    incident: DefectIncident | None = None


# --- rules ------------------------------------------------------------------------------------------------


def rule_for(*, product_line_id: int | None) -> SpikeRule | None:
    """The line's own rule when it has one (an inactive one switches early warning off for the line),
    else the default rule; None when the rule that applies is switched off."""
    rules = {
        r.product_line_id: r
        for r in SpikeRule.objects.filter(Q(product_line__isnull=True) | Q(product_line_id=product_line_id))
    }
    rule = rules.get(product_line_id) if product_line_id is not None else None
    if rule is None:
        rule = rules.get(None)
    return rule if rule is not None and rule.is_active else None


# --- what covers a complaint ------------------------------------------------------------------------------


def _batch_match(key: str) -> Q:
    """Records about the whole model cover every complaint of it; batch records cover their batch."""
    return Q(batch_no="") | Q(batch_no__iexact=key) if key else Q(batch_no="")


def _pick(rows: list[DefectAlert] | list[DefectIncident], key: str) -> DefectAlert | DefectIncident | None:
    """The batch's own record before the whole model's; the newest first."""
    exact = [r for r in rows if key and r.batch_no.upper() == key]
    return (exact or list(rows) or [None])[0]  # type: ignore[list-item]  # None: no rows at all


def covering_incident(*, product_id: int, key: str) -> DefectIncident | None:
    rows = list(
        DefectIncident.objects.filter(_batch_match(key), product_id=product_id, status__in=LIVE_INCIDENT).order_by(
            "-opened_at", "-id"
        )
    )
    return _pick(rows, key)  # type: ignore[return-value]  # _pick returns one of the incidents it was given


def covering_alert(*, product_id: int, key: str) -> DefectAlert | None:
    rows = list(
        DefectAlert.objects.filter(_batch_match(key), product_id=product_id, status=AlertStatus.OPEN).order_by(
            "-raised_at", "-id"
        )
    )
    return _pick(rows, key)  # type: ignore[return-value]  # _pick returns one of the alerts it was given


def untaken(qs: QuerySet[Complaint]) -> QuerySet[Complaint]:
    """Complaints in no alert and no incident yet."""
    in_alert = DefectAlert.complaints.through.objects.filter(complaint_id=OuterRef("pk"))
    in_incident = DefectIncident.complaints.through.objects.filter(complaint_id=OuterRef("pk"))
    return qs.exclude(Exists(in_alert)).exclude(Exists(in_incident))


def is_taken(complaint_id: int) -> bool:
    return not untaken(Complaint.objects.filter(pk=complaint_id)).exists()


# --- the window -------------------------------------------------------------------------------------------


def spike_members(*, complaint: Complaint, key: str, rule: SpikeRule) -> list[int]:
    """Ids of the countable complaints of the key in the fullest window of `rule.window_days` that
    contains `complaint` (received times, ends included); the complaint itself is one of them.
    One query on the (product, -received_at) index; the sweep over the sorted times is linear."""
    width = datetime.timedelta(days=rule.window_days)
    t = complaint.received_at
    # a complaint with a spike key has a product
    qs = Complaint.objects.filter(  # type: ignore[misc]
        product_id=complaint.product_id, received_at__gte=t - width, received_at__lte=t + width
    ).exclude(status__in=NOT_COUNTED_STATUSES)
    if key:
        qs = qs.filter(batch_no__iexact=key)
    rows = list(untaken(qs).order_by("received_at", "id").values_list("id", "received_at"))
    position = next((i for i, (pk, _at) in enumerate(rows) if pk == complaint.pk), None)
    if position is None:
        return []
    # Every window worth trying starts at a complaint received no later than this one (and, by the
    # query, no earlier than `width` before it), so it reaches this one.
    best, end = (0, 0), 0
    for start in range(position + 1):
        end = max(end, start)
        while end < len(rows) and rows[end][1] <= rows[start][1] + width:
            end += 1
        if end - start > best[1] - best[0]:
            best = (start, end)
    return [pk for pk, _at in rows[best[0] : best[1]]]


# --- joining ----------------------------------------------------------------------------------------------


def join_alert(*, alert: DefectAlert, complaint: Complaint, now: datetime.datetime) -> None:
    """A complaint covered by an open alert joins it; nothing new is raised and nobody is notified again."""
    alert.complaints.add(complaint)
    defect_event(kind="complaint_joined", at=now, alert=alert, data={"complaint": complaint.number})
    complaint_events(
        complaints=[complaint],
        action="defect_alert_joined",
        at=now,
        actor=None,
        via=Via.SYSTEM,
        after={"alert": alert.pk, "product": alert.product_id, "batch_no": alert.batch_no},
    )


def join_incident(
    *,
    incident: DefectIncident,
    complaint: Complaint,
    now: datetime.datetime,
    actor: User | None = None,
    via: str = Via.SYSTEM,
    note: str = "",
) -> None:
    """Group a complaint into an incident (automatically when `actor` is None) with both events."""
    incident.complaints.add(complaint)
    defect_event(
        kind="complaint_added",
        at=now,
        actor=actor,
        incident=incident,
        data={"complaint": complaint.number, "automatic": actor is None},
        note=note,
        via=via,
    )
    complaint_events(
        complaints=[complaint],
        action="defect_incident_joined",
        at=now,
        actor=actor,
        via=via,
        after={"incident": incident.number},
        note=note or incident.title,
    )


# --- the check --------------------------------------------------------------------------------------------


def spike_check(*, complaint: Complaint, now: datetime.datetime | None = None, notify: bool = True) -> SpikeResult:
    """Apply the early-warning rule to one complaint (see the module's docstring). Idempotent: a
    complaint already in an alert or incident changes nothing, so the worker may run it twice."""
    now = now or timezone.now()
    if complaint.product_id is None:
        return SpikeResult()
    with transaction.atomic():
        lock_product(complaint.product_id)
        current = Complaint.objects.select_related("product").filter(pk=complaint.pk).first()
        if current is None or current.product_id is None or current.status in NOT_COUNTED_STATUSES:
            return SpikeResult()
        if is_taken(current.pk):
            return SpikeResult()
        key = batch_key(current.batch_no)
        incident = covering_incident(product_id=current.product_id, key=key)
        if incident is not None:
            join_incident(incident=incident, complaint=current, now=now)
            return SpikeResult(Outcome.JOINED_INCIDENT, incident=incident)
        alert = covering_alert(product_id=current.product_id, key=key)
        if alert is not None:
            join_alert(alert=alert, complaint=current, now=now)
            return SpikeResult(Outcome.JOINED_ALERT, alert=alert)
        rule = rule_for(product_line_id=current.product.line_id)  # type: ignore[union-attr]  # a spike is of a complaint with a product
        if rule is None:
            return SpikeResult()
        members = spike_members(complaint=current, key=key, rule=rule)
        if len(members) < rule.threshold:
            return SpikeResult()
        try:
            with transaction.atomic():
                alert = DefectAlert.objects.create(
                    product_id=current.product_id,
                    batch_no=key,
                    raised_at=now,
                    threshold=rule.threshold,
                    window_days=rule.window_days,
                )
        except IntegrityError:
            # Another check won the race for this key (possible only without the product lock, e.g. an
            # alert written by hand): join the alert that exists.
            alert = DefectAlert.objects.get(product_id=current.product_id, batch_no=key, status=AlertStatus.OPEN)
            if alert.complaints.filter(pk=current.pk).exists():
                return SpikeResult(alert=alert)  # listed by the winner already
            join_alert(alert=alert, complaint=current, now=now)
            return SpikeResult(Outcome.JOINED_ALERT, alert=alert)
        listed = list(Complaint.objects.filter(pk__in=members).order_by("received_at", "id"))
        alert.complaints.add(*listed)
        defect_event(
            kind="raised",
            at=now,
            alert=alert,
            data={
                "complaints": [c.number for c in listed],
                "trigger": current.number,
                "threshold": rule.threshold,
                "window_days": rule.window_days,
                "rule": "default" if rule.product_line_id is None else "product_line",
            },
        )
        with translation.override(settings.LANGUAGE_CODE):
            note = alert_summary(alert=alert, product=current.product, count=len(listed))  # type: ignore[arg-type]  # a spike is of a complaint with a product
        complaint_events(
            complaints=listed,
            action="defect_alert_raised",
            at=now,
            actor=None,
            via=Via.SYSTEM,
            after={"alert": alert.pk, "product": current.product_id, "batch_no": key, "complaints": len(listed)},
            note=note,
        )
        if notify:
            alert_notify(alert=alert, product=current.product, complaints=listed, trigger=current, now=now)  # type: ignore[arg-type]  # a spike is of a complaint with a product
    return SpikeResult(Outcome.RAISED, alert=alert)


def alert_todo(alert: DefectAlert) -> str:
    """What quality's notice of an alert asks for: a decision on it, done by whoever takes one."""
    return f"defect_alert:{alert.pk}"


def alert_summary(*, alert: DefectAlert, product: Product, count: int) -> str:
    if alert.batch_no:
        return _("%(count)s complaints about %(model)s, batch %(batch)s, within %(days)s days") % {
            "count": count,
            "model": product.model,
            "batch": alert.batch_no,
            "days": alert.window_days,
        }
    return _("%(count)s complaints about %(model)s within %(days)s days") % {
        "count": count,
        "model": product.model,
        "days": alert.window_days,
    }


def alert_notify(
    *,
    alert: DefectAlert,
    product: Product,
    complaints: list[Complaint],
    trigger: Complaint,
    now: datetime.datetime,
) -> None:
    """Quality hears at once, in-app and by e-mail, with the complaints listed. No personal data:
    number, time received, batch and region only."""
    recipients = list(authz.recipients.members_of_role(Role.QUALITY))
    if not recipients:
        log.warning("defect alert %s raised but nobody has the quality role", alert.pk)
        return
    lines = [
        " ".join(
            part
            for part in (
                c.number,
                f"{timezone.localtime(c.received_at):%Y-%m-%d %H:%M}",
                c.batch_no,
                c.province,
                c.city,
            )
            if part
        )
        for c in complaints
    ]
    path = reverse("defects:alert", args=[alert.pk])
    # Stored as message ids: each reader sees it in their own language (notifications/texts.py).
    message = Message.words(
        kind="defect_alert",
        subject=gettext_lazy("Early warning: %(summary)s"),
        body=gettext_lazy(
            "%(product)s\nComplaints:\n%(complaints)s\n\nDismiss the alert or open a defect incident: %(link)s"
        ),
        params={
            "summary": texts.each_language(lambda: alert_summary(alert=alert, product=product, count=len(complaints))),
            "product": texts.each_language(lambda: f"{product.model} {product.label}"),
            "complaints": "\n".join(lines),
            "link": absolute_url(path),
        },
        complaint_id=trigger.pk,
        dedup=f"defect_alert:{alert.pk}",
        link=path,
        todo=alert_todo(alert),
    )
    notifications_queue(notifications_build(message=message, recipients=recipients, now=now))


# --- re-scan ----------------------------------------------------------------------------------------------


@dataclass
class RescanResult:
    checked: int = 0
    raised: list[int] = field(default_factory=list)
    joined: int = 0


def spikes_rescan(
    *, start: datetime.datetime, end: datetime.datetime, notify: bool = False, now: datetime.datetime | None = None
) -> RescanResult:
    """Run the check over the complaints received in [start, end), oldest first — after importing
    history, or to catch up after the worker was down. Idempotent. Quality is notified only when
    `notify` (old spikes found in imported history are listed in the desk, not mailed)."""
    result = RescanResult()
    rules = SpikeRule.objects.filter(is_active=True).aggregate(low=Min("threshold"), wide=Max("window_days"))
    if rules["low"] is None:
        return result  # early warning is switched off everywhere
    countable = Complaint.objects.filter(product__isnull=False).exclude(status__in=NOT_COUNTED_STATUSES)
    # Only models with enough complaints around the period to reach the lowest threshold, or with an
    # open alert or incident to join, need a check: one grouped query instead of a check per complaint.
    margin = datetime.timedelta(days=rules["wide"])
    busy = set(
        countable.filter(received_at__gte=start - margin, received_at__lt=end + margin)
        .values("product_id")
        .annotate(n=Count("id"))
        .filter(n__gte=rules["low"])
        .values_list("product_id", flat=True)
    )
    busy |= set(DefectAlert.objects.filter(status=AlertStatus.OPEN).values_list("product_id", flat=True))
    busy |= set(DefectIncident.objects.filter(status__in=LIVE_INCIDENT).values_list("product_id", flat=True))
    candidates = untaken(countable.filter(received_at__gte=start, received_at__lt=end, product_id__in=busy)).order_by(
        "received_at", "id"
    )
    # Ids first: each check writes in its own transaction, which must not run under an open cursor.
    for pk, product_id in list(candidates.values_list("pk", "product_id")):
        outcome = spike_check(complaint=Complaint(pk=pk, product_id=product_id), now=now, notify=notify)
        result.checked += 1
        if outcome.outcome == Outcome.RAISED and outcome.alert is not None:
            result.raised.append(outcome.alert.pk)
        elif outcome.outcome in (Outcome.JOINED_ALERT, Outcome.JOINED_INCIDENT):
            result.joined += 1
    return result
