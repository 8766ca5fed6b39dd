"""What a sign-in leaves in the session for the second-factor step (closeloop/sso decides, the login
flow reads): whether the identity provider already asked for a second factor.

An OpenID Connect sign-in counts as second-factor-verified when OIDC_MFA_AT_PROVIDER is on (the
operator states the provider always asks for one) or when the ID token's `amr` claim (RFC 8176)
says `mfa`. An LDAP sign-in is a password only and never counts."""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpRequest

SECOND_FACTOR_AT_PROVIDER = "closeloop_sso_second_factor"


def amr_has_second_factor(amr: object) -> bool:
    """RFC 8176: `mfa` means the provider used more than one factor."""
    return isinstance(amr, Iterable) and not isinstance(amr, str) and "mfa" in amr


def record_second_factor(request: HttpRequest, *, verified: bool) -> None:
    """Written by the backend during a sign-in: `login()` keeps it (it only changes the session's key)
    and `logout()` empties the session. Each directory sign-in writes it, so it never outlives the
    sign-in it describes."""
    request.session[SECOND_FACTOR_AT_PROVIDER] = verified


def second_factor_at_provider(request: HttpRequest) -> bool:
    """True when this session's sign-in already had a second factor at the identity provider, so
    CloseLoop's own TOTP step may be skipped."""
    return request.session.get(SECOND_FACTOR_AT_PROVIDER) is True
