"""Sign-in with an OpenID Connect provider (Keycloak, Azure AD / Entra ID, ADFS, Authing, …), on
mozilla-django-oidc: authorization code flow with PKCE and a nonce, ID token checked against the
provider's published keys (JWKS) including audience and issuer, profile and groups from the ID token
and the userinfo endpoint.

mozilla-django-oidc reads a dozen `OIDC_*` Django settings; here they are answered from
`settings.SSO.oidc` (`library_setting`), and the endpoints come from the provider's discovery
document unless given one by one.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils.translation import gettext as _
from django.views.generic import View
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from closeloop.core.types import User
from closeloop.sso.backends import SignInOnlyBackend, sign_in
from closeloop.sso.conf import OidcSettings
from closeloop.sso.services import DirectoryAccount
from closeloop.sso.session import amr_has_second_factor, record_second_factor

logger = logging.getLogger("closeloop.sso")

# Providers publish their endpoints and keys rarely change them; read the discovery document hourly.
DISCOVERY_TTL_SECONDS = 3600.0
# Clock difference between CloseLoop and the provider tolerated on the ID token's exp/iat.
CLOCK_SKEW_SECONDS = 60


class ProviderUnavailable(Exception):
    """The provider could not be asked, or its discovery document does not fit OIDC_ISSUER."""


@dataclass(frozen=True)
class Endpoints:
    authorization: str
    token: str
    jwks: str
    userinfo: str | None
    end_session: str | None


_discovered: dict[str, tuple[float, dict[str, Any]]] = {}


def _discovery_document(oidc: OidcSettings) -> dict[str, Any]:
    url = oidc.issuer.rstrip("/") + "/.well-known/openid-configuration"
    cached = _discovered.get(url)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    try:
        response = requests.get(url, timeout=oidc.timeout)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"{url}: {exc}") from exc
    if not isinstance(document, dict) or str(document.get("issuer", "")).rstrip("/") != oidc.issuer.rstrip("/"):
        issuer = document.get("issuer") if isinstance(document, dict) else None
        raise ProviderUnavailable(f"{url} names the issuer {issuer!r}, not OIDC_ISSUER={oidc.issuer!r}")
    _discovered[url] = (time.monotonic() + DISCOVERY_TTL_SECONDS, document)
    return document


def provider_endpoints(oidc: OidcSettings) -> Endpoints:
    """The configured endpoints, the rest from the discovery document. Raises ProviderUnavailable."""
    own = {
        "authorization_endpoint": oidc.authorization_endpoint,
        "token_endpoint": oidc.token_endpoint,
        "jwks_uri": oidc.jwks_uri,
        "userinfo_endpoint": oidc.userinfo_endpoint,
        "end_session_endpoint": oidc.end_session_endpoint,
    }
    required = ("authorization_endpoint", "token_endpoint", "jwks_uri")
    document = {} if all(own[key] for key in required) else _discovery_document(oidc)
    found = {key: value or document.get(key) for key, value in own.items()}
    for key in required:
        if not isinstance(found[key], str) or not found[key]:
            raise ProviderUnavailable(f"the provider names no {key} (set OIDC_{key.upper()})")
    return Endpoints(
        authorization=found["authorization_endpoint"],  # type: ignore[arg-type]  # checked above: each is a non-empty string
        token=found["token_endpoint"],  # type: ignore[arg-type]  # checked above: each is a non-empty string
        jwks=found["jwks_uri"],  # type: ignore[arg-type]  # checked above: each is a non-empty string
        userinfo=found["userinfo_endpoint"] or None,
        end_session=found["end_session_endpoint"] or None,
    )


def _oidc() -> OidcSettings:
    oidc = settings.SSO.oidc
    if oidc is None:
        raise Http404
    return oidc


def library_setting(name: str, *default: Any) -> Any:
    """What mozilla-django-oidc would read from `settings.<name>`."""
    oidc = _oidc()
    values = {
        "OIDC_RP_CLIENT_ID": oidc.client_id,
        "OIDC_RP_CLIENT_SECRET": oidc.client_secret,
        "OIDC_RP_SIGN_ALGO": oidc.sign_algorithm,
        "OIDC_RP_IDP_SIGN_KEY": None,  # the provider's JWKS
        "OIDC_RP_SCOPES": " ".join(oidc.scopes),
        "OIDC_USE_NONCE": True,
        "OIDC_USE_PKCE": True,
        "OIDC_TIMEOUT": oidc.timeout,
        "OIDC_VERIFY_SSL": True,
        "OIDC_STORE_ID_TOKEN": True,  # the hint for logging out at the provider
        "OIDC_STORE_ACCESS_TOKEN": False,
        "OIDC_ALLOW_UNSECURED_JWT": False,
        "OIDC_AUTHENTICATION_CALLBACK_URL": "sso:oidc-callback",
        "LOGIN_REDIRECT_URL": settings.LOGIN_REDIRECT_URL,
        "LOGIN_REDIRECT_URL_FAILURE": settings.LOGIN_URL,
    }
    if name in values:
        return values[name]
    if default:
        return default[0]
    raise ImproperlyConfigured(f"mozilla-django-oidc asked for {name}, which closeloop.sso.oidc does not answer")


def provider_label(oidc: OidcSettings) -> str:
    return oidc.provider_name or _("your company account")


def _fail(request: HttpRequest, oidc: OidcSettings) -> None:
    messages.error(
        request,
        _("Signing in with %(provider)s did not succeed. Try again, or ask your administrator.")
        % {"provider": provider_label(oidc)},
        fail_silently=True,
    )


def account_from_claims(oidc: OidcSettings, claims: dict[str, Any]) -> DirectoryAccount | None:
    username = claims.get(oidc.username_claim)
    if not isinstance(username, str) or not username.strip():
        logger.warning("OIDC: the provider sent no %r claim (OIDC_USERNAME_CLAIM)", oidc.username_claim)
        return None
    raw_groups = claims.get(oidc.groups_claim) or []
    groups = [raw_groups] if isinstance(raw_groups, str) else [str(g) for g in raw_groups if isinstance(g, str | int)]
    name = claims.get("name") or " ".join(str(claims[c]) for c in ("given_name", "family_name") if claims.get(c))
    email = claims.get("email")
    return DirectoryAccount(
        source="oidc",
        username=username.strip(),
        name=str(name),
        email=email if isinstance(email, str) else "",
        groups=frozenset(groups),
    )


class OidcBackend(SignInOnlyBackend, OIDCAuthenticationBackend):
    OIDC_RP_IDP_SIGN_KEY = None
    get_settings = staticmethod(library_setting)

    def __init__(self) -> None:
        # The base class looks the provider's endpoints up here; Django makes every backend for every
        # password sign-in too, so they are looked up only when a callback arrives.
        self.UserModel = get_user_model()

    # The attributes the base class reads, answered when it reads them.
    @property
    def OIDC_OP_TOKEN_ENDPOINT(self) -> str:
        return provider_endpoints(_oidc()).token

    @property
    def OIDC_OP_USER_ENDPOINT(self) -> str | None:
        return provider_endpoints(_oidc()).userinfo

    @property
    def OIDC_OP_JWKS_ENDPOINT(self) -> str:
        return provider_endpoints(_oidc()).jwks

    @property
    def OIDC_RP_CLIENT_ID(self) -> str:
        return _oidc().client_id

    @property
    def OIDC_RP_CLIENT_SECRET(self) -> str:
        return _oidc().client_secret

    @property
    def OIDC_RP_SIGN_ALGO(self) -> str:
        return _oidc().sign_algorithm

    def authenticate(  # type: ignore[override]  # Django picks backends by the credentials their parameters bind
        self, request: HttpRequest | None, *, nonce: str | None, code_verifier: str | None
    ) -> User | None:
        """Only the callback view's call binds (it passes nonce and code_verifier); Django skips this
        backend for a password sign-in."""
        oidc = settings.SSO.oidc
        if oidc is None or request is None:
            return None
        try:
            return super().authenticate(request, nonce=nonce, code_verifier=code_verifier)
        except (ProviderUnavailable, requests.RequestException, SuspiciousOperation, jwt.PyJWTError, KeyError) as exc:
            logger.warning("OIDC sign-in failed: %s: %s", type(exc).__name__, exc)
            _fail(request, oidc)
            return None

    def get_payload_data(self, token: bytes | str, key: Any) -> dict[str, Any]:
        """The ID token's claims, its signature, algorithm, audience, issuer and lifetime checked
        (the base class checks neither audience nor issuer)."""
        oidc = _oidc()
        try:
            payload: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[oidc.sign_algorithm],
                audience=oidc.client_id,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["iss", "aud", "exp", "iat", "sub"], "verify_iss": False},
            )
        except jwt.PyJWTError as exc:
            raise SuspiciousOperation(f"ID token rejected: {exc}") from exc
        # Compared without a trailing slash: providers differ in whether they write one.
        if str(payload["iss"]).rstrip("/") != oidc.issuer.rstrip("/"):
            raise SuspiciousOperation(f"ID token from issuer {payload['iss']!r}, not OIDC_ISSUER")
        return payload

    def get_userinfo(self, access_token: str, id_token: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The ID token's claims, completed by the userinfo endpoint's (about the same subject)."""
        claims = dict(payload)
        if self.OIDC_OP_USER_ENDPOINT:
            info = super().get_userinfo(access_token, id_token, payload)
            if info.get("sub") != payload.get("sub"):
                raise SuspiciousOperation("the userinfo endpoint answered about another subject")
            claims.update(info)
        return claims

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> User | None:
        oidc = _oidc()
        account = account_from_claims(oidc, self.get_userinfo(access_token, id_token, payload))
        if account is None:
            _fail(self.request, oidc)
            return None
        user = sign_in(self.request, account, oidc.groups)
        if user is not None:
            verified = oidc.mfa_at_provider or amr_has_second_factor(payload.get("amr"))
            record_second_factor(self.request, verified=verified)
        return user


class OidcLoginView(OIDCAuthenticationRequestView):
    """Start: redirect to the provider's authorization endpoint."""

    get_settings = staticmethod(library_setting)

    def __init__(self, **kwargs: Any) -> None:
        View.__init__(self, **kwargs)  # the base class would look the endpoint up before get()

    def get(self, request: HttpRequest) -> HttpResponse:
        oidc = _oidc()
        try:
            self.OIDC_OP_AUTH_ENDPOINT = provider_endpoints(oidc).authorization
        except ProviderUnavailable as exc:
            logger.error("OIDC: the provider cannot be asked: %s", exc)
            _fail(request, oidc)
            return HttpResponseRedirect(resolve_url(settings.LOGIN_URL))
        self.OIDC_RP_CLIENT_ID = oidc.client_id
        return super().get(request)


class OidcCallbackView(OIDCAuthenticationCallbackView):
    """The provider sends the browser back here with a code (or an error)."""

    get_settings = staticmethod(library_setting)

    @property
    def failure_url(self) -> str:
        return resolve_url(settings.LOGIN_URL)

    def get(self, request: HttpRequest) -> HttpResponse:
        oidc = _oidc()
        if request.GET.get("error"):
            logger.warning(
                "OIDC: the provider answered %s: %s", request.GET["error"], request.GET.get("error_description", "")
            )
            _fail(request, oidc)
        elif request.GET.get("state") not in (request.session.get("oidc_states") or {}):
            # An old tab, the back button, or a callback this browser never asked for.
            messages.error(request, _("This sign-in has expired. Please sign in again."), fail_silently=True)
            return self.login_failure()
        return super().get(request)


def end_session_url(request: HttpRequest) -> str | None:
    """Where to send the browser after logging out of CloseLoop, to end the provider's session too."""
    oidc = settings.SSO.oidc
    id_token = request.session.get("oidc_id_token")
    if oidc is None or not id_token:
        return None
    try:
        endpoint = provider_endpoints(oidc).end_session
    except ProviderUnavailable as exc:
        logger.warning("OIDC: logging out at the provider skipped: %s", exc)
        return None
    if not endpoint:
        return None
    query = urlencode(
        {
            "id_token_hint": id_token,
            "post_logout_redirect_uri": request.build_absolute_uri(resolve_url(settings.LOGOUT_REDIRECT_URL)),
            "client_id": oidc.client_id,
        }
    )
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"
