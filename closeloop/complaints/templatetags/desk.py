"""Small display helpers for the desk templates."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django import template
from django.urls import reverse
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from closeloop.complaints.lifecycle import Status
from closeloop.complaints.models import Priority
from closeloop.core.i18n import bilingual_label
from closeloop.core.roles import ROLE_LABELS, Role
from closeloop.sla.presentation import describe_duration, time_left

register = template.Library()


@register.simple_tag
def role_labels(roles: frozenset[str]) -> str:
    """The user's roles in the active language, comma-separated, in the order of the Role enum."""
    return ", ".join(str(ROLE_LABELS[r]) for r in Role if r.value in roles)


@register.simple_tag
def time_left_badge(
    due_at: Any, warn_at: Any, paused: bool = False, met_at: Any = None, cancelled: bool = False
) -> str:
    """Green while time is left, amber from the warning point, red when breached (sla.presentation).

    Written in Python rather than as an inclusion tag: a queue page shows one per row, and rendering
    a template (with its own context) per row was a sixth of the desk queue's CPU."""
    if met_at is not None:
        text = _("cancelled") if cancelled else f"{_('met')} {localtime(met_at):%m-%d %H:%M}"
        return format_html('<span class="tl tl-done">{}</span>', text)
    badge = time_left(due_at=due_at, warn_at=warn_at, paused=paused)
    if badge.state == "none":
        return mark_safe('<span class="muted">—</span>')
    if badge.due_at is None:
        return format_html('<span class="tl tl-{}">{}</span>', badge.state, badge.text)
    title = f"{_('due')} {localtime(badge.due_at):%Y-%m-%d %H:%M}"
    return format_html('<span class="tl tl-{}" title="{}">{}</span>', badge.state, title, badge.text)


# One row of the queue. Every value goes in through escape() (numbers, names, labels), the badge and
# the repeat mark are built by format_html: the same escaping as the template's autoescape.
_QUEUE_ROW = (
    '<tr>\n      {pick}<td class="nowrap">{badge}</td>\n'
    '      <td><a class="number" href="{href}">{number}</a>{repeat}</td>\n'
    '      <td class="nowrap">{received}</td>\n'
    '      <td>{name} <span class="muted nowrap">{phone}</span></td>\n'
    "      <td>{product}</td>\n"
    "      <td>{type}</td>\n"
    '      <td><span class="prio prio-{priority}">{priority_label}</span></td>\n'
    '      <td><span class="status status-{status}">{status_label}</span></td>\n'
    "      <td>{department}</td>\n    </tr>"
)
_PICK = '<td class="pick"><input type="checkbox" name="n" value="{0}" form="bulk-form" aria-label="{0}"></td>'
_NUMBER_SLOT = "NUMBER-SLOT"
_URL_SAFE = "!$&'()*+,;=/~:@"  # as reverse() quotes a path argument (RFC 3986 sub-delimiters and /~:@)


@register.simple_tag
def queue_rows(rows: list[tuple[Any, Any]], bulk: bool) -> SafeString:
    """The queue table's rows: (complaint, contact as the user may see it) each.

    Written in Python rather than as a template loop: the 25-row loop, a dozen variables and filters a
    row, was 60 % of the page's template time (docs/decisions.md, issue 20). Labels in the active
    language are looked up once per page (a type's or department's once per distinct one), the link
    once per page (reverse, then the escaped, URL-quoted number in its slot)."""
    if not rows:
        empty = _("No complaints match these filters.")
        return format_html('<tr><td colspan="{}" class="empty">{}</td></tr>', 10 if bulk else 9, empty)
    href_template = escape(reverse("desk:detail", args=[_NUMBER_SLOT]))
    repeat_mark = format_html(' <span class="badge repeat" title="{}">{}</span>', _("repeat complaint"), _("repeat"))
    priority_labels = {value: escape(str(label)) for value, label in Priority.choices}  # escape(lazy) stays lazy
    status_labels = {value: escape(str(label)) for value, label in Status.choices}
    labels: dict[tuple[str, int | None], str] = {}
    dash = "—"
    out = []
    for complaint, contact in rows:
        number = escape(complaint.number)
        type_key = ("type", complaint.type_id)
        if (type_label := labels.get(type_key)) is None:
            type_label = labels[type_key] = escape(complaint.type.label)
        department_key = ("department", complaint.department_id)
        if (department_label := labels.get(department_key)) is None:
            department = complaint.department
            department_label = labels[department_key] = escape(department.label) if department else dash
        out.append(
            _QUEUE_ROW.format(
                pick=_PICK.format(number) if bulk else "",
                badge=time_left_badge(complaint.next_due_at, complaint.next_warn_at, complaint.waiting_since),
                href=href_template.replace(_NUMBER_SLOT, escape(quote(complaint.number, safe=_URL_SAFE))),
                number=number,
                repeat=repeat_mark if complaint.repeat_of_id else "",
                received=f"{localtime(complaint.received_at):%Y-%m-%d %H:%M}",
                name=escape(contact.name),
                phone=escape(contact.phone),
                product=escape(complaint.product_label or dash),
                type=type_label,
                priority=complaint.priority,
                priority_label=priority_labels.get(complaint.priority) or escape(complaint.priority),
                status=escape(complaint.status),
                status_label=status_labels.get(complaint.status) or escape(complaint.status),
                department=department_label,
            )
        )
    return mark_safe("\n    ".join(out))  # noqa: S308  # every part escaped above


@register.filter
def duration_words(text: str) -> str:
    """A deadline's target ("2wd") in words of the active language (sla.presentation)."""
    return describe_duration(text)


@register.inclusion_tag("desk/_saved_views.html", takes_context=True)
def saved_views_picker(context: template.Context) -> dict:
    """The queue's saved views (the user's own and the shared ones, one query) and the form that saves
    the filters shown. An include of the queue page, so that the queue's view knows nothing of it."""
    from closeloop import authz
    from closeloop.complaints.saved_views import saved_view_query, saved_views_for

    request = context["request"]
    current = saved_view_query(request.GET)
    views = list(saved_views_for(user=request.user))
    may_share = authz.allowed(request.user, "complaints.share_saved_view")
    rows = [
        {
            "view": view,
            "current": view.query == current,
            "deletable": (view.owner_id == request.user.pk and not view.shared) or (view.shared and may_share),
        }
        for view in views
    ]
    return {"rows": rows, "query": current, "may_share": may_share, "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("desk/_bulk_actions.html", takes_context=True)
def bulk_actions_form(context: template.Context) -> dict:
    """The queue's bulk-action form (handling.views.bulk answers it): the rows' check boxes belong to it
    (form="bulk-form"). For the desk only; one query (handlers, read as values; the departments are
    cached reference data). The two long lists of options are written here: as template loops over
    model instances they were most of the form's time (docs/decisions.md, issue 20)."""
    from closeloop import authz
    from closeloop.directory import selectors as directory_selectors
    from closeloop.directory.models import Membership

    request = context["request"]
    if not authz.allowed(request.user, "complaints.reprioritise_complaint"):
        return {"shown": False}
    may_dispatch = authz.allowed(request.user, "handling.dispatch_complaint")
    department_options = handler_options = ""
    if may_dispatch:
        department_options = format_html_join(
            "",
            '<option value="{}">{}</option>',
            # ordered by code (Meta.ordering)
            ((d.pk, d.label) for d in directory_selectors.departments_active()),
        )
        handlers = (
            Membership.objects.filter(user__is_active=True, user__groups__name=Role.HANDLER.value)
            .order_by("department__code", "user__username")
            .values_list(
                "user_id",
                "user__first_name",
                "user__last_name",
                "user__username",
                "department__name",
                "department__name_en",
            )
        )
        handler_options = format_html_join(
            "",
            '<option value="{}">{} · {}</option>',
            (
                (user_id, f"{first} {last}".strip() or username, bilingual_label(name, name_en))  # get_full_name
                for user_id, first, last, username, name, name_en in handlers
            ),
        )
    return {
        "shown": True,
        "department_options": department_options,
        "handler_options": handler_options,
        "priorities": Priority.choices,
        "may_dispatch": may_dispatch,
        "next": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }
