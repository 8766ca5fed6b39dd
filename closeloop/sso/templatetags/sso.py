from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from closeloop.sso.oidc import provider_label

register = template.Library()


@register.inclusion_tag("sso/_login_options.html", takes_context=True)
def sso_login_options(context: template.Context) -> dict[str, Any]:
    """The login page's company-account options: the OpenID Connect button, an LDAP hint."""
    oidc = settings.SSO.oidc
    return {
        "oidc_label": provider_label(oidc) if oidc is not None else None,
        "ldap": settings.SSO.ldap is not None,
        "next": context.get("next") or "",
    }
