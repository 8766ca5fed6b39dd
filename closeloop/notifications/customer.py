"""Messages to the complainant at acknowledgement, solution and resolution (issue 4, domain rule 6).

The text comes from the admin-edited MessageTemplate of the code and method, in the customer's
language. The method follows the priority: 一般 (normal) by SMS, or e-mail when there is no phone;
重要 and 紧急 by SMS *and* in writing (e-mail with the complaint's evidence attached).

The rendering context holds only what the customer already knows — the complaint's number, the
product, the date we received it and the solution as proposed to them — never a contact detail,
a name, an internal note, a handler or a department.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.template import Context, Template, TemplateSyntaxError
from django.utils import timezone, translation

from closeloop.complaints.models import Attachment, Complaint, Priority
from closeloop.notifications.models import MessageTemplate, Method, Notification, NotificationAttachment, State

if TYPE_CHECKING:
    from closeloop.handling.models import Solution

CODES = ("acknowledged", "solution", "resolved")
LANGUAGES = ("zh-hans", "en")


def customer_language(complaint: Complaint) -> str:
    """The customer's language; customers have no language of their own yet, so Chinese by default."""
    language = getattr(complaint.customer, "language", "") or settings.LANGUAGE_CODE
    return "en" if str(language).lower().startswith("en") else "zh-hans"


def customer_methods(*, priority: int, phone: str, email: str) -> list[str]:
    """Domain rule 6: 一般 by phone/SMS (e-mail if we only have that); 重要/紧急 also in writing."""
    if priority == Priority.NORMAL:
        if phone:
            return [Method.SMS]
        return [Method.EMAIL] if email else []
    return [m for m, address in ((Method.SMS, phone), (Method.EMAIL, email)) if address]


def _latest_solution(complaint: Complaint) -> Solution | None:
    from closeloop.handling.models import SolutionStatus

    return (
        complaint.solutions.filter(status__in=[SolutionStatus.APPROVED, SolutionStatus.EXECUTING, SolutionStatus.DONE])
        .order_by("-proposed_at", "-pk")
        .first()
    )


def message_context(*, complaint: Complaint, solution: Solution | None = None) -> dict[str, Any]:
    """What a template may use. Rendered under the customer's language (labels follow it)."""
    from closeloop.handling.models import CompensationForm, Measure

    context: dict[str, Any] = {
        "number": complaint.number,
        "product": complaint.product_label,
        "received_date": timezone.localtime(complaint.received_at).date().isoformat(),
        "solution": "",
        "measures": "",
        "compensation": "",
    }
    if solution is not None:
        measures = [str(Measure(m).label) for m in solution.measures if m in Measure.values]
        context["solution"] = solution.description
        context["measures"] = "、".join(measures) if translation.get_language() == "zh-hans" else ", ".join(measures)
        if solution.compensation_amount is not None:
            form = (
                str(CompensationForm(solution.compensation_form).label)
                if solution.compensation_form in CompensationForm.values
                else ""
            )
            context["compensation"] = f"{solution.compensation_amount} CNY {form}".strip()
    return context


def render_template(template: MessageTemplate, *, language: str, context: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) of a template in a language; English falls back to Chinese where it is empty.
    Plain text: nothing is HTML-escaped."""
    english = language == "en"
    subject = (template.subject_en if english else "") or template.subject_zh
    body = (template.body_en if english else "") or template.body_zh
    with translation.override(language):
        ctx = Context(context, autoescape=False)
        return Template(subject).render(ctx).strip(), Template(body).render(ctx).strip()


def template_preview(template: MessageTemplate, *, language: str) -> tuple[str, str]:
    """The admin's preview: the template rendered with an example complaint."""
    context = {
        "number": "TS20261123-0007",
        "product": "XD-100 LED吸顶灯" if language != "en" else "XD-100 LED ceiling light",
        "received_date": "2026-11-23",
        "solution": "上门更换驱动电源" if language != "en" else "On-site replacement of the LED driver",
        "measures": "上门维修" if language != "en" else "on-site repair",
        "compensation": "",
    }
    try:
        return render_template(template, language=language, context=context)
    except TemplateSyntaxError as exc:
        return "", f"⚠ {exc}"


def customer_notify(
    *,
    complaint: Complaint,
    code: str,
    now: datetime.datetime,
    attachments: Iterable[Attachment] = (),
    solution: Solution | None = None,
    dedup: str = "",
) -> list[Notification]:
    """Queue the customer's messages for `code` inside the caller's transaction. The written e-mail
    of important and urgent complaints carries `attachments`, by default all of the complaint's
    evidence. Returns the rows: the caller's event names the methods used (never the addresses)."""
    if code not in CODES:
        raise ValueError(f"unknown customer message {code!r}")
    customer = complaint.customer
    if customer.anonymised_at is not None:
        return []
    methods = customer_methods(priority=complaint.priority, phone=customer.phone, email=customer.email)
    templates = {t.method: t for t in MessageTemplate.objects.filter(code=code, method__in=methods, is_active=True)}
    language = customer_language(complaint)
    if code == "solution" and solution is None:
        solution = _latest_solution(complaint)
    with translation.override(language):
        context = message_context(complaint=complaint, solution=solution if code == "solution" else None)
    evidence: Sequence[Attachment] = list(attachments) or list(complaint.attachments.order_by("uploaded_at", "pk"))
    rows: list[Notification] = []
    for method in methods:
        template = templates.get(method)
        if template is None:
            continue
        dedup_key = f"customer:{complaint.pk}:{code}:{dedup}:{method}"[:120] if dedup else None
        if dedup_key and Notification.objects.filter(dedup_key=dedup_key).exists():
            continue
        try:
            subject, body = render_template(template, language=language, context=context)
        except TemplateSyntaxError:
            continue  # a broken template must not stop the complaint; the event says nothing was sent
        row = Notification.objects.create(
            created_at=now,
            method=method,
            recipient=None,
            address=customer.phone if method == Method.SMS else customer.email,
            complaint=complaint,
            kind=f"customer_{code}",
            subject=subject[:200],
            body=body,
            dedup_key=dedup_key,
            state=State.PENDING,
            next_attempt_at=now,
        )
        if method == Method.EMAIL and complaint.priority != Priority.NORMAL and evidence:
            NotificationAttachment.objects.bulk_create(
                [NotificationAttachment(notification=row, attachment=a) for a in evidence]
            )
        rows.append(row)
    if rows:
        from closeloop.notifications.services import _wake_worker

        transaction.on_commit(_wake_worker)
    return rows
