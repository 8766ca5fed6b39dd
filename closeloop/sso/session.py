"""What a sign-in leaves in the session for the second-factor step (closeloop/sso decides, the login
flow reads): whether the identity provider already asked for a second factor.

An OpenID Connect sign-in counts as second-factor-verified when OIDC_MFA_AT_PROVIDER is on (the
operator states the provider always asks for one) or when the ID token's `amr` claim (RFC 8176)
says `mfa`. An LDAP sign-in is a password only and never counts."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import BACKEND_SESSION_KEY
from django.http import HttpRequest

from closeloop.sso.conf import LDAP_BACKEND, OIDC_BACKEND

SECOND_FACTOR_AT_PROVIDER = "closeloop_sso_second_factor"


def amr_has_second_factor(amr: object) -> bool:
    """RFC 8176: `mfa` means the provider used more than one factor."""
    return isinstance(amr, Iterable) and not isinstance(amr, str) and "mfa" in amr


def record_second_factor(request: HttpRequest, *, verified: bool) -> None:
    """Called right after `login()` of an OpenID Connect sign-in."""
    request.session[SECOND_FACTOR_AT_PROVIDER] = verified


def second_factor_at_provider(request: HttpRequest) -> bool:
    """True when this session's sign-in already had a second factor at the identity provider, so
    CloseLoop's own TOTP step may be skipped."""
    return request.session.get(SECOND_FACTOR_AT_PROVIDER) is True


def sign_in_source(request: HttpRequest) -> str | None:
    """ "ldap", "oidc", or None for a CloseLoop password (or no sign-in)."""
    return {LDAP_BACKEND: "ldap", OIDC_BACKEND: "oidc"}.get(request.session.get(BACKEND_SESSION_KEY, ""))
