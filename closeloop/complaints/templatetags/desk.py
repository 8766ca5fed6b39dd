"""Small display helpers for the desk templates."""

from __future__ import annotations

from typing import Any

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

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
        text = _("cancelled") if cancelled else f"{_('met')} {date_filter(localtime(met_at), 'm-d H:i')}"
        return format_html('<span class="tl tl-done">{}</span>', text)
    badge = time_left(due_at=due_at, warn_at=warn_at, paused=paused)
    if badge.state == "none":
        return mark_safe('<span class="muted">—</span>')
    if badge.due_at is None:
        return format_html('<span class="tl tl-{}">{}</span>', badge.state, badge.text)
    title = f"{_('due')} {date_filter(localtime(badge.due_at), 'Y-m-d H:i')}"
    return format_html('<span class="tl tl-{}" title="{}">{}</span>', badge.state, title, badge.text)


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
    (form="bulk-form"). For the desk only; one query (handlers; the departments are cached reference data)."""
    from closeloop import authz
    from closeloop.complaints.models import Priority
    from closeloop.directory import selectors as directory_selectors
    from closeloop.directory.models import Membership

    request = context["request"]
    if not authz.allowed(request.user, "complaints.reprioritise_complaint"):
        return {"shown": False}
    handlers = (
        Membership.objects.filter(user__is_active=True, user__groups__name=Role.HANDLER.value)
        .select_related("user", "department")
        .order_by("department__code", "user__username")
    )
    return {
        "shown": True,
        "departments": directory_selectors.departments_active(),  # ordered by code (Meta.ordering)
        "handlers": handlers,
        "priorities": Priority.choices,
        "may_dispatch": authz.allowed(request.user, "handling.dispatch_complaint"),
        "next": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }
