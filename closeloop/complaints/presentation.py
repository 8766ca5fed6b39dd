"""How complaints read on the desk: labels for timeline actions and the rows the templates draw.

Templates stay free of logic: everything they show is prepared here as plain values.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils import dateformat, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from closeloop.complaints.lifecycle import Status
from closeloop.complaints.models import Attachment, Complaint, Event, Via
from closeloop.complaints.selectors import ContactView
from closeloop.complaints.sniff import AUDIO_TYPES, PLAYABLE_AUDIO_TYPES
from closeloop.directory.models import Customer
from closeloop.notifications.models import Method, Notification, State

# One label per event action. Actions not listed here are shown by their code, so a new service
# that records a new action is visible at once, and gets its label here.
ACTION_LABELS: dict[str, Promise] = {
    "registered": _("Registered"),
    "imported": _("Imported from the history"),
    "defect_alert_raised": _("Early warning: defect alert raised"),
    "defect_alert_joined": _("Joined an open defect alert"),
    "defect_incident_joined": _("Grouped into a defect incident"),
    "hazard_flagged": _("Safety hazard: made urgent, quality and management told"),
    "defect_incident_left": _("Removed from a defect incident"),
    "defect_remedy_applied": _("Defect incident remedy applied"),
    "acknowledge": _("Acknowledged"),
    "resolve": _("Resolved"),
    "invalidate": _("Marked invalid"),
    "mark_duplicate": _("Marked duplicate"),
    "attachment_added": _("Attachment added"),
    "priority_changed": _("Priority changed"),
    "waiting_started": _("Waiting for the customer"),
    "waiting_ended": _("Resumed after waiting"),
    "deadline_warned": _("Deadline warning"),
    "deadline_breached": _("Deadline passed"),
    "deadline_escalated": _("Escalated (deadline passed)"),
    # feedback form (责任人反馈表)
    "feedback_form_opened": _("Feedback form opened"),
    "feedback_form_saved": _("Feedback form saved"),
    "feedback_form_submitted": _("Feedback form submitted for review"),
    "feedback_form_approved": _("Feedback form approved for archive"),
    "feedback_form_returned": _("Feedback form returned for supplement"),
    # tasks (dispatch, handler work)
    "dispatch": _("Dispatched"),
    "redispatched": _("Redispatched"),
    "auditors_copied": _("Copy sent to the audit office"),
    "start_handling": _("Handling started"),
    "task_created": _("Task created"),
    "task_reassigned": _("Task reassigned"),
    "task_withdrawn": _("Task withdrawn"),
    "task_verified": _("Task verified"),
    "task_info_requested": _("Information requested"),
    "task_info_provided": _("Information provided"),
    "contact_logged": _("Contact logged"),
    "progress_added": _("Progress added"),
    "task_replied": _("Department replied"),
    # postponements and disputes
    "postponement_requested": _("Postponement requested"),
    "postponement_opinion": _("Postponement: department manager's opinion"),
    "postponement_confirmed": _("Postponement: customer service confirmed"),
    "postponement_decided": _("Postponement: management decided"),
    "postponement_approved": _("Postponement approved"),
    "postponement_rejected": _("Postponement rejected"),
    # reopen, escalation, closing, archive, retention
    "reopen": _("Reopened (customer not satisfied)"),
    "escalated": _("Escalated to the CS supervisors"),
    "close": _("Closed"),
    "archive": _("Archived (read-only)"),
    "anonymised": _("Personal data anonymised"),
    "external_ref_renamed": _("External reference made unique"),
    "dispute_raised": _("Responsibility disputed"),
    "dispute_decided": _("Responsibility dispute decided"),
    # solutions, approvals, execution, customer messages
    "propose_solution": _("Solution proposed"),
    "solution_level_approved": _("Solution approved at one level"),
    "approve_solution": _("Solution approved"),
    "reject_solution": _("Solution rejected"),
    "start_execution": _("Execution of the solution started"),
    "execution_step_done": _("Execution step done"),
    "solution_executed": _("Solution executed"),
    # repeat complaints and merged duplicates
    "repeat_detected": _("Repeat complaint detected"),
    "repeat_linked": _("Linked as a repeat complaint"),
    "repeat_unlinked": _("No longer a repeat complaint"),
    "related_found": _("Recent service orders of the customer on the same product"),
    "merged_into": _("Merged into another complaint"),
    "merged": _("Duplicate merged into this complaint"),
    # follow-up (回访) and the self-service survey
    "followup_created": _("Follow-up due"),
    "followup_attempt": _("Follow-up call attempted"),
    "followup_unreachable": _("Follow-up: customer unreachable"),
    "followup_recorded": _("Follow-up recorded"),
    "survey_sent": _("Survey link sent"),
    # the e-mail thread (closeloop/mailin)
    "email_received": _("E-mail received"),
    "email_triage": _("E-mail received that could not be read: to triage"),
    "customer_replied": _("The customer replied by e-mail"),
    # the customer's additions on the portal's status page (issue 17)
    "customer_added": _("The customer added information on the status page"),
    # written to the customer from the complaint (issue 15)
    "customer_written": _("Written to the customer"),
}
# Events that are mails from the customer: the timeline marks them as the thread's incoming side.
MAIL_IN_ACTIONS = frozenset({"email_received", "email_triage", "customer_replied"})


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def status_label(value: object) -> str:
    if isinstance(value, str) and value in Status.values:
        return str(Status(value).label)
    return ""


def via_label(value: str) -> str:
    return str(Via(value).label) if value in Via.values else value


@dataclass(frozen=True)
class TimelineRow:
    at: datetime.datetime
    actor: str
    via: str
    label: str
    status_before: str
    status_after: str
    note: str
    # The number of the merged duplicate the event belongs to; "" for the complaint's own events.
    complaint_number: str = ""
    # A mail of the complaint's thread: "in" (from the customer) or "out" (ours), else "".
    mail: str = ""
    subject: str = ""
    # Where our mail is: pending, sent or failed (with the reason, e.g. a bounce).
    mail_state: str = ""


def contact_masked_in(text: str, *, customer: Customer, contact: ContactView | None) -> str:
    """`text` with the customer's own phone number and e-mail address as `contact` shows them: masked
    for a role without personal data (a message to the customer may quote them)."""
    if contact is None or not contact.masked or not text:
        return text
    for raw, shown in ((customer.phone, contact.phone), (customer.email, contact.email)):
        if raw:
            text = text.replace(raw, shown)
    return text


def _method_label(event: Event) -> str:
    method = event.after.get("method") if event.action == "customer_written" else None
    return str(Method(method).label) if method in Method.values else ""


def timeline_rows(
    events: Iterable[Event],
    complaint: Complaint | None = None,
    contact: ContactView | None = None,
    mails_out: Iterable[Notification] = (),
) -> list[TimelineRow]:
    """The timeline as the desk draws it, oldest first, with our e-mails to the customer between the events
    where they were written; `contact`: the complaint's customer as this user sees them, so that notes
    quoting their phone or e-mail are masked alike."""
    events = list(events)
    mails = list(mails_out)
    # An e-mail an agent wrote is one row: the outgoing mail, named by its event's writer.
    written = {event.after.get("notification"): event for event in events if event.action == "customer_written"}
    drawn = {notification.pk for notification in mails}

    def masked(text: str) -> str:
        if complaint is None:
            return text
        return contact_masked_in(text, customer=complaint.customer, contact=contact)

    rows = [_mail_out_row(notification, written.get(notification.pk), masked) for notification in mails]
    for event in events:
        if event.action == "customer_written" and event.after.get("notification") in drawn:
            continue
        other = complaint is not None and event.complaint_id != complaint.pk
        actor = (event.actor.get_full_name() or event.actor.get_username()) if event.actor else str(_("system"))
        rows.append(
            TimelineRow(
                at=timezone.localtime(event.at),
                actor=actor,
                via=via_label(event.via),
                label=" · ".join(p for p in (action_label(event.action), _method_label(event)) if p),
                status_before=status_label(event.before.get("status")),
                status_after=status_label(event.after.get("status")),
                note=contact_masked_in(event.note, customer=complaint.customer, contact=contact)
                if complaint is not None
                else event.note,
                complaint_number=getattr(event, "complaint_number", "") if other else "",
                mail="in" if event.action in MAIL_IN_ACTIONS else "",
                subject=_mail_subject(event),
            )
        )
    rows.sort(key=lambda row: row.at)  # stable: events keep their order
    return rows


def _mail_subject(event: Event) -> str:
    """A received mail's subject, unless the note already is the subject (the first mail of a complaint)."""
    if event.action not in MAIL_IN_ACTIONS:
        return ""
    subject = str(event.after.get("subject", ""))
    return "" if subject == event.note else subject


def _mail_out_row(notification: Notification, written: Event | None, masked: Callable[[str], str]) -> TimelineRow:
    """Our e-mail to the customer with where it is (pending, sent, failed: a bounce); `written`: the event
    of an agent who wrote it on the desk."""
    state = str(notification.get_state_display())
    if notification.state == State.FAILED and notification.last_error:
        state = f"{state}: {notification.last_error[:120]}"
    writer = written.actor if written is not None else None
    return TimelineRow(
        at=timezone.localtime(notification.created_at),
        actor=(writer.get_full_name() or writer.get_username()) if writer is not None else str(_("system")),
        via=via_label(written.via) if written is not None else str(Method(notification.method).label),
        label=" · ".join(
            [str(_("Written to the customer")), str(Method.EMAIL.label)]
            if written is not None
            else [str(_("E-mail to the customer"))]
        ),
        status_before="",
        status_after="",
        note=masked(notification.body),
        mail="out",
        subject=notification.subject,
        mail_state=state,
    )


def local_time(value: datetime.datetime) -> str:
    return dateformat.format(timezone.localtime(value), "Y-m-d H:i")


@dataclass(frozen=True)
class FieldRow:
    label: str
    value: object


def registration_fields(complaint: Complaint) -> list[FieldRow]:
    """The registration form's fields as label/value pairs (empty values are shown as a dash)."""
    rows = [
        (_("channel"), complaint.get_channel_display()),
        (_("received at"), local_time(complaint.received_at)),
        (_("registered at"), local_time(complaint.registered_at)),
        (_("registered by"), complaint.registered_by.get_username() if complaint.registered_by else ""),
        (_("type"), complaint.type.label),
        (_("priority"), complaint.get_priority_display()),
        (_("responsible department"), complaint.department.label if complaint.department else ""),
        (_("product"), complaint.product_label),
        (_("batch / lot number"), complaint.batch_no),
        (_("purchase date"), complaint.purchase_date),
        (_("order / invoice number"), complaint.order_no),
        (_("region"), " ".join(p for p in (complaint.province, complaint.city) if p)),
        (_("external reference"), complaint.external_ref),
    ]
    return [FieldRow(str(label), value) for label, value in rows]


@dataclass(frozen=True)
class AttachmentRow:
    attachment: Attachment
    # A recording the desk's browsers play in an <audio> element (WAV, MP3, M4A); AMR is downloaded.
    playable: bool
    audio: bool


def attachment_rows(attachments: Iterable[Attachment]) -> list[AttachmentRow]:
    return [
        AttachmentRow(a, playable=a.content_type in PLAYABLE_AUDIO_TYPES, audio=a.content_type in AUDIO_TYPES)
        for a in attachments
    ]


# The default templates an agent writes from (notifications migration 0006); an admin's own `write_…`
# template is listed by its code.
WRITE_TEMPLATE_LABELS: dict[str, Promise] = {
    "write_progress": _("progress update"),
    "write_need_info": _("information needed from the customer"),
    "write_missed_call": _("we could not reach you by phone"),
    "write_survey": _("link to the satisfaction survey"),
}


def write_template_choices(codes: Iterable[str]) -> list[tuple[str, str]]:
    return [(code, str(WRITE_TEMPLATE_LABELS.get(code, code))) for code in sorted(set(codes))]
