"""OpenID Connect sign-in through a real provider (django-oidc-provider in its own process, see
tests/sso/oidc_provider/) and CloseLoop's live server, driven over HTTP as a browser would:
CloseLoop's login page → the provider's login form → consent → callback → the desk."""

from __future__ import annotations

import html
import itertools
import re
import socket
import time
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import SuspiciousOperation
from django.test import Client
from django.urls import reverse

from closeloop.core.roles import Role, user_roles
from closeloop.directory.models import Membership
from closeloop.sso.conf import SsoSettings
from closeloop.sso.oidc import OidcBackend
from closeloop.sso.session import SECOND_FACTOR_AT_PROVIDER
from tests.sso.conftest import OidcProvider

PASSWORD = "provider-pw-1"
_names = itertools.count(1)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attributes.get("action") or "", "fields": {}, "buttons": {}})
        elif tag in {"input", "button"} and self.forms and attributes.get("name"):
            kind = "buttons" if attributes.get("type") == "submit" or tag == "button" else "fields"
            self.forms[-1][kind][attributes["name"]] = attributes.get("value") or ""


def submit(
    session: requests.Session, page: requests.Response, data: dict[str, str], button: str = ""
) -> requests.Response:
    """Fill in and send the page's form (with its hidden fields), pressing `button` if named."""
    parser = _Forms()
    parser.feed(page.text)
    assert parser.forms, f"no form on {page.url}"
    form = parser.forms[0]
    fields = {**form["fields"], **data}
    if button:
        fields[button] = form["buttons"][button]
    return session.post(urljoin(page.url, form["action"]), data=fields, timeout=30)


def sign_in(live_server: Any, provider: OidcProvider, username: str) -> tuple[requests.Session, requests.Response]:
    """From CloseLoop's login page through the provider's login and consent back to CloseLoop."""
    browser = requests.Session()
    browser.headers["Accept-Language"] = "en"
    login_page = browser.get(f"{live_server.url}/login/", timeout=30)
    button = re.search(r'<a class="button sso-button" href="([^"]+)"', login_page.text)
    assert button, "no sign-in button on the login page"
    provider_login = browser.get(urljoin(login_page.url, html.unescape(button.group(1))), timeout=30)
    assert provider_login.url.startswith(f"{provider.url}/accounts/login/"), provider_login.url
    consent = submit(browser, provider_login, {"username": username, "password": PASSWORD})
    assert "Request for Permission" in consent.text, consent.text[:500]
    return browser, submit(browser, consent, {}, button="allow")


def session_of(browser: requests.Session) -> SessionStore:
    return SessionStore(session_key=browser.cookies.get("sessionid"))


@pytest.fixture
def oidc_on(oidc_provider: OidcProvider, sso_env: Callable[..., SsoSettings]) -> Callable[..., SsoSettings]:
    def configure(**overrides: str) -> SsoSettings:
        sso = sso_env(
            OIDC_ISSUER=oidc_provider.issuer,
            OIDC_CLIENT_ID=oidc_provider.client_id,
            OIDC_CLIENT_SECRET=oidc_provider.client_secret,
            OIDC_SCOPES="openid profile email groups",
            OIDC_PROVIDER_NAME="Example Lighting",
            OIDC_GROUP_ROLES="CloseLoop-Agents=agent;closeloop-leads=agent,cs_supervisor",
            OIDC_GROUP_DEPARTMENTS="Quality=quality;Quality-Managers=quality:manager",
            **overrides,
        )
        assert sso.problems == () and sso.oidc is not None
        return sso

    return configure


def provider_user(provider: OidcProvider, *, groups: list[str], **profile: str) -> str:
    username = f"oidc-user-{next(_names)}"
    provider.put_user(username, PASSWORD, groups=groups, **profile)
    return username


def test_sign_in_with_the_provider_creates_the_user_with_mapped_roles_and_opens_the_desk(
    live_server: Any, oidc_provider: OidcProvider, oidc_on: Callable[..., SsoSettings]
) -> None:
    oidc_on()
    username = provider_user(
        oidc_provider,
        groups=["CloseLoop-Agents", "Quality"],
        first_name="丽",
        last_name="王",
        email="wang.li@example.com",
    )

    browser, desk = sign_in(live_server, oidc_provider, username)

    assert desk.status_code == 200 and desk.url == f"{live_server.url}{reverse('desk:queue')}"
    user = User.objects.get(username=username)
    assert (user.email, set(user_roles(user))) == ("wang.li@example.com", {Role.AGENT})
    assert user.get_full_name() == "丽 王"  # the provider's `name` claim, whole
    assert list(Membership.objects.filter(user=user).values_list("department__code", "is_manager")) == [
        ("quality", False)
    ]
    assert not user.has_usable_password()
    assert session_of(browser)[SECOND_FACTOR_AT_PROVIDER] is False  # amr says pwd only


def test_the_next_sign_in_updates_the_profile_and_the_mapped_roles(
    live_server: Any, oidc_provider: OidcProvider, oidc_on: Callable[..., SsoSettings]
) -> None:
    oidc_on()
    username = provider_user(oidc_provider, groups=["CloseLoop-Agents"], first_name="伟", last_name="张")
    sign_in(live_server, oidc_provider, username)
    oidc_provider.put_user(
        username,
        PASSWORD,
        groups=["closeloop-leads", "Quality-Managers"],
        first_name="伟",
        last_name="张",
        email="zhang.wei@example.com",
    )

    _browser, desk = sign_in(live_server, oidc_provider, username)

    assert desk.status_code == 200
    user = User.objects.get(username=username)
    assert set(user_roles(user)) == {Role.AGENT, Role.CS_SUPERVISOR}
    assert user.email == "zhang.wei@example.com"
    assert list(Membership.objects.filter(user=user).values_list("department__code", "is_manager")) == [
        ("quality", True)
    ]


def test_someone_in_no_mapped_group_is_sent_back_to_the_login_page_with_the_reason(
    live_server: Any, oidc_provider: OidcProvider, oidc_on: Callable[..., SsoSettings]
) -> None:
    oidc_on()
    username = provider_user(oidc_provider, groups=["Canteen"])

    _browser, page = sign_in(live_server, oidc_provider, username)

    assert page.url.startswith(f"{live_server.url}/login/")
    assert "not in any group that gives access" in page.text
    assert not User.objects.filter(username=username).exists()


def test_declining_at_the_provider_comes_back_to_the_login_page_with_a_message(
    live_server: Any, oidc_provider: OidcProvider, oidc_on: Callable[..., SsoSettings]
) -> None:
    oidc_on()
    username = provider_user(oidc_provider, groups=["CloseLoop-Agents"])
    browser = requests.Session()
    browser.headers["Accept-Language"] = "en"
    provider_login = browser.get(f"{live_server.url}{reverse('sso:oidc-login')}", timeout=30)
    consent = submit(browser, provider_login, {"username": username, "password": PASSWORD})

    page = submit(browser, consent, {})  # "Decline": the provider answers error=access_denied

    assert page.url.startswith(f"{live_server.url}/login/")
    assert "Signing in with Example Lighting did not succeed" in page.text
    assert not User.objects.filter(username=username).exists()


def test_a_deactivated_user_stays_refused(
    live_server: Any, oidc_provider: OidcProvider, oidc_on: Callable[..., SsoSettings]
) -> None:
    oidc_on()
    username = provider_user(oidc_provider, groups=["CloseLoop-Agents"])
    User.objects.create_user(username, is_active=False)

    _browser, page = sign_in(live_server, oidc_provider, username)

    assert page.url.startswith(f"{live_server.url}/login/")
    assert "deactivated" in page.text


def test_a_second_factor_at_the_provider_is_recorded_for_the_totp_step(
    live_server: Any, oidc_provider: OidcProvider, oidc_on: Callable[..., SsoSettings]
) -> None:
    oidc_on()
    # tests/sso/oidc_provider/claims.py: this group's ID tokens say amr=["pwd", "otp", "mfa"].
    username = provider_user(oidc_provider, groups=["CloseLoop-Agents", "used-mfa"])

    browser, desk = sign_in(live_server, oidc_provider, username)

    assert desk.status_code == 200
    assert session_of(browser)[SECOND_FACTOR_AT_PROVIDER] is True


def test_the_operator_can_state_that_the_provider_always_asks_for_a_second_factor(
    live_server: Any, oidc_provider: OidcProvider, oidc_on: Callable[..., SsoSettings]
) -> None:
    oidc_on(OIDC_MFA_AT_PROVIDER="true")
    username = provider_user(oidc_provider, groups=["CloseLoop-Agents"])  # amr: pwd only

    browser, _desk = sign_in(live_server, oidc_provider, username)

    assert session_of(browser)[SECOND_FACTOR_AT_PROVIDER] is True


def test_a_provider_that_does_not_send_the_user_name_claim_is_refused_with_a_message(
    live_server: Any, oidc_provider: OidcProvider, oidc_on: Callable[..., SsoSettings]
) -> None:
    oidc_on(OIDC_USERNAME_CLAIM="employee_number")
    username = provider_user(oidc_provider, groups=["CloseLoop-Agents"])

    _browser, page = sign_in(live_server, oidc_provider, username)

    assert page.url.startswith(f"{live_server.url}/login/")
    assert "Signing in with Example Lighting did not succeed" in page.text
    assert not User.objects.filter(username=username).exists()


def test_logging_out_also_ends_the_session_at_the_provider(
    live_server: Any, oidc_provider: OidcProvider, oidc_on: Callable[..., SsoSettings]
) -> None:
    oidc_on()
    username = provider_user(oidc_provider, groups=["CloseLoop-Agents"])
    browser, desk = sign_in(live_server, oidc_provider, username)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', desk.text)
    assert csrf

    after = browser.post(
        f"{live_server.url}/logout/",
        data={"csrfmiddlewaretoken": csrf.group(1)},
        headers={"Referer": desk.url},
        timeout=30,
    )

    assert after.url == f"{live_server.url}/login/"  # back from the provider's end-session endpoint
    assert browser.get(f"{live_server.url}{reverse('desk:queue')}", timeout=30).url.startswith(
        f"{live_server.url}/login/"
    )
    # The provider forgot the person too: starting again asks for the password.
    again = browser.get(f"{live_server.url}{reverse('sso:oidc-login')}", timeout=30)
    assert again.url.startswith(f"{oidc_provider.url}/accounts/login/")


def test_a_callback_this_browser_did_not_ask_for_is_refused_without_an_error_page(
    live_server: Any, oidc_provider: OidcProvider, oidc_on: Callable[..., SsoSettings]
) -> None:
    oidc_on()

    page = requests.get(
        f"{live_server.url}/sso/oidc/callback/?code=forged&state=forged", headers={"Accept-Language": "en"}, timeout=30
    )

    assert page.status_code == 200 and page.url.startswith(f"{live_server.url}/login/")
    assert "expired" in page.text


@pytest.mark.django_db
def test_a_provider_that_cannot_be_reached_gives_a_message_not_an_error_page(
    sso_env: Callable[..., SsoSettings], client: Client
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    sso_env(OIDC_ISSUER=f"http://127.0.0.1:{closed}/openid", OIDC_CLIENT_ID="x", OIDC_CLIENT_SECRET="y")

    response = client.get(reverse("sso:oidc-login"), follow=True)

    assert response.redirect_chain[-1][0] == reverse("login")
    assert "did not succeed" in response.content.decode()


@pytest.mark.django_db
def test_the_login_page_offers_the_provider_only_when_it_is_configured(
    sso_env: Callable[..., SsoSettings], client: Client
) -> None:
    sso_env()
    assert "sso-button" not in client.get(reverse("login")).content.decode()
    assert client.get(reverse("sso:oidc-login")).status_code == 404

    sso_env(
        OIDC_ISSUER="https://id.example.com/realms/lighting",
        OIDC_CLIENT_ID="closeloop",
        OIDC_CLIENT_SECRET="s",
        OIDC_PROVIDER_NAME="Example Lighting",
    )
    page = client.get(reverse("login"), {"next": "/desk/?state=open"}).content.decode()
    assert "Sign in with Example Lighting" in page
    assert 'href="/sso/oidc/login/?next=/desk/%3Fstate%3Dopen"' in page


def _id_token(kid: str, key: Any, **claims: Any) -> str:
    now = int(time.time())
    payload = {"sub": "1", "nonce": "n-1", "iat": now, "exp": now + 600, **claims}
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("case", "refused"),
    [
        ("the provider's own token", False),
        ("signed with another key", True),
        ("for another client", True),
        ("from another issuer", True),
        ("expired", True),
    ],
)
def test_an_id_token_must_be_signed_by_the_provider_for_this_client_and_current(
    case: str, refused: bool, oidc_provider: OidcProvider, oidc_on: Callable[..., SsoSettings]
) -> None:
    oidc_on()
    kid, pem = oidc_provider.signing_key()
    claims: dict[str, Any] = {"iss": oidc_provider.issuer, "aud": oidc_provider.client_id}
    key: Any = pem
    if case == "signed with another key":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif case == "for another client":
        claims["aud"] = "some-other-application"
    elif case == "from another issuer":
        claims["iss"] = "https://id.elsewhere.example"
    elif case == "expired":
        claims |= {"iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600}
    token = _id_token(kid, key, **claims)

    if refused:
        with pytest.raises(SuspiciousOperation):
            OidcBackend().verify_token(token, nonce="n-1")
    else:
        assert OidcBackend().verify_token(token, nonce="n-1")["aud"] == oidc_provider.client_id
