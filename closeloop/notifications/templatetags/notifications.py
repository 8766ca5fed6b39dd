"""The staff channel card of "My account" (accounts/account.html includes it with one tag)."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from closeloop.notifications.channels import staff_channel_of
from closeloop.notifications.forms import StaffChannelForm

register = template.Library()


@register.inclusion_tag("notifications/_channel_form.html", takes_context=True)
def staff_channel_form(context: dict[str, Any]) -> dict[str, Any]:
    request = context["request"]
    preference, role_channel = staff_channel_of(request.user)
    return {
        "form": StaffChannelForm(
            initial={"channel": preference.channel if preference else ""}, role_channel=role_channel
        ),
        "wecom_configured": settings.WECOM is not None,
        "wecom_userid": preference.wecom_userid if preference else "",
        "csrf_token": context.get("csrf_token"),
    }
