"""The life of a monthly (or on-demand) report as a table (the mechanism: closeloop/core/lifecycle.py).

Generated as a draft; the CS supervisor reviews it (or returns it to be regenerated), management
approves it (never the person who reviewed it) and it is sent to the distribution list — at once on
approval, or by management once the list is filled. Who may act is a permission of the report.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from closeloop.core.errors import DomainError
from closeloop.core.lifecycle import Lifecycle, Transition, register
from closeloop.insight.models import ReportStatus

VIEW_PERMISSION = "insight.view_report"
GENERATE_PERMISSION = "insight.generate_report"
REVIEW_PERMISSION = "insight.review_report"
APPROVE_PERMISSION = "insight.approve_report"


def has_permission(user: Any, permission: str) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_perm(permission))


def may_review(user: Any, report: Any) -> bool:
    return has_permission(user, REVIEW_PERMISSION)


def may_approve(user: Any, report: Any) -> bool:
    return has_permission(user, APPROVE_PERMISSION)


def may_return(user: Any, report: Any) -> bool:
    return may_review(user, report) or may_approve(user, report)


def may_send(user: Any, report: Any) -> bool:
    """Sent on approval by the system (no actor), or again by management once the list is filled."""
    return user is None or may_approve(user, report)


def wrong_state(report: Any, message: Any) -> DomainError:
    status = str(ReportStatus(report.status).label) if report.status in ReportStatus.values else report.status
    return DomainError(
        f"{message} " + gettext("The report is %(status)s.") % {"status": status},
        field="status",
        code="wrong_state",
    )


_WRONG_STATE = {
    "review": _("Only a draft can be reviewed."),
    "return": _("An approved or sent report cannot be returned."),
    "approve": _("Only a report reviewed by the CS supervisor can be approved."),
}


def _wrong_state(report: Any, transition: Transition) -> DomainError:
    if transition.action == "send":
        if report.status == ReportStatus.SENT:
            return wrong_state(report, _("The report was sent already."))
        return DomainError(gettext("Only an approved report can be sent."), field="status", code="wrong_state")
    return wrong_state(report, _WRONG_STATE[transition.action])


def _files_generated(report: Any, data: dict[str, object]) -> DomainError | None:
    if report.generated_at is None or not report.xlsx or not report.pdf:
        return DomainError(_("The report is still being generated."), field="status", code="wrong_state")
    return None


def _draft_returned_by_reviewer(report: Any, data: dict[str, object]) -> DomainError | None:
    if report.status == ReportStatus.DRAFT and not may_review(data.get("actor"), report):
        return wrong_state(report, _("A draft is returned by the CS supervisor."))
    return None


def _not_the_reviewer(report: Any, data: dict[str, object]) -> DomainError | None:
    actor = data.get("actor")
    if actor is None:
        return None
    reviewer = report.steps.filter(action="reviewed").order_by("-at", "-pk").values_list("actor_id", flat=True).first()
    if reviewer == getattr(actor, "pk", None):
        return DomainError(
            _("The person who reviewed the report cannot also approve it."), field="status", code="four_eyes"
        )
    return None


def _sendable(report: Any, data: dict[str, object]) -> DomainError | None:
    from closeloop.insight.services.reports import send_problem

    problem = send_problem(report)
    return None if problem is None else DomainError(problem, field="status", code="wrong_state")


LIFECYCLE = register(
    Lifecycle(
        name="report",
        title=_("Report"),
        model="insight.Report",
        states=ReportStatus,
        wrong_state=_wrong_state,
        transitions=(
            Transition(
                action="review",
                label=_("Review"),
                sources=frozenset({ReportStatus.DRAFT}),
                target=ReportStatus.REVIEWED,
                allowed=may_review,
                denied=_("Only a CS supervisor may review reports."),
                guards=(_files_generated,),
                service="closeloop.insight.services.reports.report_review",
            ),
            Transition(
                action="return",
                label=_("Return to draft"),
                sources=frozenset({ReportStatus.DRAFT, ReportStatus.REVIEWED}),
                target=ReportStatus.DRAFT,
                allowed=may_return,
                denied=_("Only CS supervisors and management may return reports."),
                required=("note",),
                guards=(_draft_returned_by_reviewer,),
                service="closeloop.insight.services.reports.report_return",
            ),
            Transition(
                action="approve",
                label=_("Approve"),
                sources=frozenset({ReportStatus.REVIEWED}),
                target=ReportStatus.APPROVED,
                allowed=may_approve,
                denied=_("Only management may approve reports."),
                guards=(_not_the_reviewer,),
                service="closeloop.insight.services.reports.report_approve",
            ),
            Transition(
                action="send",
                label=_("Send the report"),
                sources=frozenset({ReportStatus.APPROVED}),
                target=ReportStatus.SENT,
                allowed=may_send,
                denied=_("Only management may send reports."),
                guards=(_sendable,),
                service="closeloop.insight.services.reports.report_send",
            ),
        ),
    )
)
