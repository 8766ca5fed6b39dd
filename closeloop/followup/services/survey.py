"""The self-service survey: a signed, expiring, single-use link to the portal.

The token is random (secrets.token_urlsafe) and only its SHA-256 is stored, so a copy of the database
cannot answer surveys; the URL carries nothing but the token. The link is sent through the outbox and
answered on the portal (closeloop.portal.survey), which records the follow-up with `followup_record`
exactly as an agent would, and spends the link in the same transaction.
"""

from __future__ import annotations

import datetime
import enum
import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from closeloop.complaints.customer_messages import customer_language
from closeloop.complaints.events import event_record
from closeloop.complaints.models import Complaint, Via
from closeloop.core.errors import DomainError, TransitionNotAllowed
from closeloop.core.links import absolute_url
from closeloop.core.types import User
from closeloop.followup.models import FollowUp, FollowUpMethod, SurveyLink
from closeloop.followup.services.followups import _check_actor, _check_open, _locked, followup_record
from closeloop.notifications.models import Method, Notification, State

SURVEY_METHODS = (FollowUpMethod.SMS, FollowUpMethod.EMAIL)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def survey_url(token: str) -> str:
    return absolute_url(reverse("portal:survey", args=[token]))


def survey_link_create(
    *,
    followup: FollowUp,
    method: str,
    actor: User | None,
    via: str = Via.DESK,
    now: datetime.datetime | None = None,
) -> str:
    """Queue the survey link to the customer by SMS or e-mail; returns the raw token (never stored)."""
    now = now or timezone.now()
    _check_actor(actor)
    if method not in SURVEY_METHODS:
        raise DomainError(_("Send the survey link by SMS or e-mail."), field="method")
    with transaction.atomic():
        locked = _locked(followup)
        _check_open(locked)
        complaint = locked.complaint
        customer = complaint.customer
        address = customer.phone if method == FollowUpMethod.SMS else customer.email
        if customer.anonymised_at is not None or not address:
            raise DomainError(
                _("We have no mobile number for this customer.")
                if method == FollowUpMethod.SMS
                else _("We have no e-mail address for this customer."),
                field="method",
            )
        if method == FollowUpMethod.SMS and not address.startswith("1"):
            raise DomainError(_("The customer's number is a landline: it cannot receive an SMS."), field="method")
        token = secrets.token_urlsafe(32)
        expires_at = now + datetime.timedelta(days=settings.SURVEY_LINK_DAYS)
        link = SurveyLink.objects.create(
            followup=locked, token_hash=token_hash(token), created_at=now, expires_at=expires_at, sent_via=method
        )
        with translation.override(customer_language(complaint)):
            subject = _("How did we do? Complaint %(number)s") % {"number": complaint.number}
            body = _(
                "Your complaint %(number)s has been handled. Please tell us whether the problem is solved "
                "and how satisfied you are: %(url)s (valid until %(until)s)."
            ) % {
                "number": complaint.number,
                "url": survey_url(token),
                "until": timezone.localtime(expires_at).strftime("%Y-%m-%d"),
            }
        Notification.objects.create(
            created_at=now,
            method=Method.SMS if method == FollowUpMethod.SMS else Method.EMAIL,
            recipient=None,
            address=address,
            complaint=complaint,
            kind="survey",
            subject=subject[:200],
            body=body,
            state=State.PENDING,
            next_attempt_at=now,
        )
        event_record(
            complaint=complaint,
            action="survey_sent",
            actor=actor,
            via=via,
            at=now,
            after={"followup": locked.pk, "survey_link": link.pk, "method": method, "expires_at": expires_at},
        )
        from closeloop.notifications.services import outbox_wake

        transaction.on_commit(outbox_wake)
    return token


def survey_url_for_message(*, complaint: Complaint, method: str, actor: User | None, now: datetime.datetime) -> str:
    """`{survey_url}` in a message an agent writes to the customer (complaints.services.
    customer_message_send): a new link to the survey of the complaint's open follow-up, made in the
    sending transaction (the complaint is locked by the caller). DomainError when no follow-up waits."""
    followup = (
        FollowUp.objects.select_for_update(no_key=True, of=("self",))
        .filter(complaint=complaint, outcome="")
        .order_by("-round", "-pk")
        .first()
    )
    if followup is None:
        raise DomainError(
            _("No follow-up is waiting for this complaint, so there is no survey to link: remove {survey_url}."),
            field="text",
        )
    token = secrets.token_urlsafe(32)
    SurveyLink.objects.create(
        followup=followup,
        token_hash=token_hash(token),
        created_at=now,
        expires_at=now + datetime.timedelta(days=settings.SURVEY_LINK_DAYS),
        sent_via=method,
    )
    return survey_url(token)


class LinkState(enum.StrEnum):
    OK = "ok"
    UNKNOWN = "unknown"  # forged or mistyped: 404
    EXPIRED = "expired"  # 410
    USED = "used"  # answered already (through this link, another one, or by an agent): 410


@dataclass(frozen=True)
class LinkCheck:
    state: LinkState
    link: SurveyLink | None = None


def survey_link_check(*, token: str, now: datetime.datetime | None = None) -> LinkCheck:
    now = now or timezone.now()
    if not token or len(token) > 200:
        return LinkCheck(LinkState.UNKNOWN)
    link = (
        SurveyLink.objects.select_related("followup__complaint__product", "followup__complaint__customer")
        .filter(token_hash=token_hash(token))
        .first()
    )
    if link is None:
        return LinkCheck(LinkState.UNKNOWN)
    if link.used_at is not None or link.followup.outcome:
        return LinkCheck(LinkState.USED, link)
    if link.expires_at <= now:
        return LinkCheck(LinkState.EXPIRED, link)
    return LinkCheck(LinkState.OK, link)


class SurveyLinkRefused(DomainError):
    """The link cannot be answered (any more); `state` says why."""

    def __init__(self, state: LinkState) -> None:
        super().__init__(_("This survey link cannot be used."), field="token")
        self.state = state


def survey_answer(
    *,
    token: str,
    solved: bool | None,
    level: str,
    comments: str = "",
    suggestions: str = "",
    now: datetime.datetime | None = None,
) -> FollowUp:
    """The customer's answer through the link: spends the link (a conditional update, so a double
    submit records once) and records the follow-up in the same transaction."""
    now = now or timezone.now()
    check = survey_link_check(token=token, now=now)
    if check.state is not LinkState.OK or check.link is None:
        raise SurveyLinkRefused(check.state)
    try:
        with transaction.atomic():
            spent = SurveyLink.objects.filter(pk=check.link.pk, used_at__isnull=True, expires_at__gt=now).update(
                used_at=now
            )
            if not spent:
                raise SurveyLinkRefused(LinkState.USED)
            return followup_record(
                followup=check.link.followup,
                method=FollowUpMethod.SURVEY,
                solved=solved,
                level=level,
                comments=comments,
                suggestions=suggestions,
                actor=None,
                via=Via.PORTAL,
                now=now,
            )
    except TransitionNotAllowed as exc:
        # An agent recorded the answer meanwhile: the link is spent, as far as the customer is concerned.
        if FollowUp.objects.filter(pk=check.link.followup_id).exclude(outcome="").exists():
            raise SurveyLinkRefused(LinkState.USED) from exc
        raise
