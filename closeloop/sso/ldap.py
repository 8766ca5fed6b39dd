"""Sign-in against LDAP / Active Directory, on ldap3 (pure Python).

Two ways to check a password (LDAP_USER_DN_TEMPLATE or not):
- direct bind: bind as the name the template makes (`uid={username},ou=people,…`, or for Active
  Directory `{username}@corp.example.com`), then read the user's entry;
- search then bind: the service account (LDAP_BIND_DN) finds the one entry LDAP_USER_FILTER matches
  under LDAP_USER_SEARCH_BASE (users in any OU; Active Directory by sAMAccountName or
  userPrincipalName), then CloseLoop binds as that entry's DN with the password.
Groups are the entry's memberOf values (Active Directory; OpenLDAP with the memberof overlay) plus,
with LDAP_GROUP_SEARCH_BASE, the groups a search for `member=<user DN>` finds (any slapd).
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ldap3
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn

from closeloop.core.types import User
from closeloop.sso.backends import SignInOnlyBackend, sign_in
from closeloop.sso.conf import LdapSettings
from closeloop.sso.services import DirectoryAccount
from closeloop.sso.session import record_second_factor

logger = logging.getLogger("closeloop.sso")


class DirectoryUnavailable(Exception):
    """The directory could not be asked (down, TLS failure, service account refused)."""


def _servers(ldap: LdapSettings) -> list[ldap3.Server]:
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=ldap.ca_file)
    return [
        ldap3.Server(
            url,
            use_ssl=url.lower().startswith("ldaps://"),
            tls=tls,
            connect_timeout=ldap.timeout,
            get_info=ldap3.NONE,
        )
        for url in ldap.urls
    ]


@contextmanager
def _bound(ldap: LdapSettings, server: ldap3.Server, who: str, password: str) -> Iterator[ldap3.Connection | None]:
    """A connection bound as `who`, or None when the directory refuses the name or password."""
    connection = ldap3.Connection(
        server,
        user=who,
        password=password,
        receive_timeout=ldap.timeout,
        read_only=True,
        raise_exceptions=False,
        # Active Directory answers a search of the domain with referrals to DomainDnsZones and the like;
        # following them means connecting to more servers while someone waits at the login page.
        auto_referrals=False,
    )
    try:
        connection.open()
        if ldap.start_tls and not connection.start_tls():
            raise DirectoryUnavailable(f"StartTLS failed: {connection.result}")
        yield connection if connection.bind() else None
    except LDAPException as exc:
        raise DirectoryUnavailable(f"{type(exc).__name__}: {exc}") from exc
    finally:
        connection.unbind()


def _values(entry: dict[str, Any], attribute: str | None) -> list[str]:
    if not attribute:
        return []
    value = entry["attributes"].get(attribute)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


# success, sizeLimitExceeded (more than one user matched: refused below)
_SEARCH_ANSWERED = {0, 4}


def _log_failed_search(connection: ldap3.Connection, base: str, variable: str) -> None:
    """A search that fails (a mistyped base, no read access) would otherwise look like "no such user"."""
    result = connection.result or {}
    if result.get("result") not in _SEARCH_ANSWERED:
        logger.warning("LDAP search under %s (%s) failed: %s", base, variable, result.get("description"))


def _find_user(ldap: LdapSettings, connection: ldap3.Connection, login: str) -> dict[str, Any] | None:
    connection.search(
        ldap.user_search_base,
        ldap.user_filter.replace("{username}", escape_filter_chars(login)),
        search_scope=ldap3.SUBTREE,
        attributes=[
            a
            for a in (ldap.username_attribute, *ldap.name_attributes, ldap.email_attribute, ldap.member_of_attribute)
            if a
        ],
        size_limit=2,
    )
    _log_failed_search(connection, ldap.user_search_base, "LDAP_USER_SEARCH_BASE")
    entries = [item for item in connection.response or [] if item.get("type") == "searchResEntry"]
    if len(entries) > 1:
        logger.warning("LDAP_USER_FILTER matches more than one entry for %r; refused", login)
        return None
    return entries[0] if entries else None


def _groups(ldap: LdapSettings, connection: ldap3.Connection, entry: dict[str, Any], username: str) -> set[str]:
    groups = set(_values(entry, ldap.member_of_attribute))
    if ldap.group_search_base:
        group_filter = ldap.group_filter.replace("{user_dn}", escape_filter_chars(entry["dn"])).replace(
            "{username}", escape_filter_chars(username)
        )
        connection.search(
            ldap.group_search_base, group_filter, search_scope=ldap3.SUBTREE, attributes=[ldap3.NO_ATTRIBUTES]
        )
        _log_failed_search(connection, ldap.group_search_base, "LDAP_GROUP_SEARCH_BASE")
        groups |= {item["dn"] for item in connection.response or [] if item.get("type") == "searchResEntry"}
    return groups


def directory_account(ldap: LdapSettings, login: str, password: str) -> DirectoryAccount | None:
    """The account this login and password prove, or None (no such user, wrong password).
    Raises DirectoryUnavailable when no server in LDAP_URL can be asked.

    The servers are tried in order (several domain controllers). ldap3's ServerPool is not used: it
    sleeps 10 seconds after a round of unreachable servers, while someone waits at the login page."""
    failures = []
    for server in _servers(ldap):
        try:
            return _directory_account(ldap, server, login, password)
        except DirectoryUnavailable as exc:
            failures.append(f"{server.host}:{server.port}: {exc}")
    raise DirectoryUnavailable("; ".join(failures))


def _directory_account(ldap: LdapSettings, server: ldap3.Server, login: str, password: str) -> DirectoryAccount | None:
    if ldap.user_dn_template:
        with _bound(ldap, server, ldap.user_dn_template.replace("{username}", escape_rdn(login)), password) as user:
            if user is None:
                return None
            if not ldap.bind_dn:
                return _account(ldap, user, login)
        # The password is right; read the entry and groups as the service account, which may see more.
    with _bound(ldap, server, ldap.bind_dn or "", ldap.bind_password or "") as service:
        if service is None:
            raise DirectoryUnavailable(f"the service account LDAP_BIND_DN={ldap.bind_dn!r} was refused")
        if ldap.user_dn_template:
            return _account(ldap, service, login)
        entry = _find_user(ldap, service, login)
        if entry is None:
            return None
        with _bound(ldap, server, entry["dn"], password) as user:
            if user is None:
                return None
        return _account(ldap, service, login, entry=entry)


def _account(
    ldap: LdapSettings, connection: ldap3.Connection, login: str, *, entry: dict[str, Any] | None = None
) -> DirectoryAccount | None:
    entry = entry or _find_user(ldap, connection, login)
    if entry is None:
        logger.warning("LDAP: %r bound but LDAP_USER_FILTER finds no entry under LDAP_USER_SEARCH_BASE", login)
        return None
    usernames = _values(entry, ldap.username_attribute)
    if not usernames:
        logger.warning("LDAP: %s has no %s (LDAP_USERNAME_ATTRIBUTE)", entry["dn"], ldap.username_attribute)
        return None
    name = next((value for a in ldap.name_attributes for value in _values(entry, a) if value.strip()), "")
    emails = _values(entry, ldap.email_attribute)
    return DirectoryAccount(
        source="ldap",
        username=usernames[0],
        name=name,
        email=emails[0] if emails else "",
        groups=frozenset(_groups(ldap, connection, entry, usernames[0])),
    )


class LdapBackend(SignInOnlyBackend):
    # Django's authenticate() skips a backend whose parameters do not bind the credentials given: no **kwargs.
    def authenticate(  # type: ignore[override]
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None
    ) -> User | None:
        ldap = settings.SSO.ldap
        # An empty password would be an anonymous bind, which many directories accept.
        if ldap is None or not username or not username.strip() or not password:
            return None
        try:
            account = directory_account(ldap, username.strip(), password)
        except DirectoryUnavailable as exc:
            logger.error("LDAP sign-in of %r: the directory cannot be asked: %s", username, exc)
            if request is not None:
                messages.error(
                    request,
                    _("The company directory cannot be reached. Try again in a minute, or ask your administrator."),
                    fail_silently=True,
                )
            return None
        if account is None:
            return None
        user = sign_in(request, account, ldap.groups)
        if user is not None and request is not None:
            record_second_factor(request, verified=False)  # a password is one factor
        return user
