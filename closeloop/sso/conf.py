"""Single sign-on settings, read from the environment once by closeloop/settings.py (`sso_from_env`).

`settings.SSO` holds the result: `ldap` and `oidc` are None when that sign-in is not configured or is
configured wrongly; then `problems` names each wrong variable, the system check `sso.E001` reports it
(`closeloop check`, `migrate`, `closeloop serve`), the log says it at start, and that sign-in stays off.
Every variable is listed in docs/operations.md ("Single sign-on").
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from closeloop.env import env_bool, env_int, env_list, env_str
from closeloop.sso.mapping import (
    GroupMapping,
    MappingError,
    ldap_group_key,
    ldap_group_key_or_raw,
    oidc_group_key,
    parse_department_mapping,
    parse_role_mapping,
)

LDAP_BACKEND = "closeloop.sso.ldap.LdapBackend"
OIDC_BACKEND = "closeloop.sso.oidc.OidcBackend"

# Plain connections are acceptable only to a server on this machine (development, the test suite).
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
LDAP_DEFAULT_GROUP_FILTER = "(|(member={user_dn})(uniqueMember={user_dn}))"
# Asymmetric algorithms only: the ID token is checked with the provider's published keys (JWKS).
OIDC_SIGN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")


@dataclass(frozen=True)
class Problem:
    variable: str
    message: str


@dataclass(frozen=True)
class LdapSettings:
    urls: tuple[str, ...]
    user_search_base: str
    user_filter: str = "(uid={username})"
    # Direct bind: the name a user binds with ("uid={username},ou=people,dc=example,dc=com", or for
    # Active Directory "{username}@corp.example.com"). Without it, the service account finds the
    # user's DN first and CloseLoop binds as that DN.
    user_dn_template: str | None = None
    bind_dn: str | None = None
    bind_password: str | None = field(default=None, repr=False)
    start_tls: bool = False
    ca_file: str | None = None
    timeout: int = 5
    username_attribute: str = "uid"
    name_attributes: tuple[str, ...] = ("displayName", "cn")
    email_attribute: str = "mail"
    member_of_attribute: str | None = "memberOf"
    group_search_base: str | None = None
    group_filter: str = LDAP_DEFAULT_GROUP_FILTER
    groups: GroupMapping = field(default_factory=lambda: GroupMapping(normalise=ldap_group_key_or_raw))


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    # Each None is read from the provider's discovery document ({issuer}/.well-known/openid-configuration).
    authorization_endpoint: str | None = None
    token_endpoint: str | None = None
    userinfo_endpoint: str | None = None
    jwks_uri: str | None = None
    end_session_endpoint: str | None = None
    scopes: tuple[str, ...] = ("openid", "profile", "email")
    sign_algorithm: str = "RS256"
    username_claim: str = "preferred_username"
    groups_claim: str = "groups"
    provider_name: str | None = None
    # The operator's statement that the provider always asks this client's users for a second factor.
    mfa_at_provider: bool = False
    timeout: int = 10
    groups: GroupMapping = field(default_factory=lambda: GroupMapping(normalise=oidc_group_key))


@dataclass(frozen=True)
class SsoSettings:
    ldap: LdapSettings | None = None
    oidc: OidcSettings | None = None
    problems: tuple[Problem, ...] = ()  # that sign-in is off
    warnings: tuple[Problem, ...] = ()  # it works, but should not stay like this

    @property
    def backends(self) -> list[str]:
        """The authentication backends to append (after the password backend) for what is configured."""
        return [path for path, on in ((LDAP_BACKEND, self.ldap), (OIDC_BACKEND, self.oidc)) if on is not None]


def _mapping(
    problems: list[Problem],
    roles_variable: tuple[str, str | None],
    departments_variable: tuple[str, str | None],
    *,
    normalise_entry: Callable[[str], str],
    normalise: Callable[[str], str],
) -> GroupMapping:
    """The group mappings, given as (variable name, value) of `<prefix>_GROUP_ROLES` and
    `<prefix>_GROUP_DEPARTMENTS`; entries are parsed with the strict normaliser (a mistyped DN is a
    problem), the directory's answers later with the tolerant one."""
    roles: dict[str, frozenset[str]] = {}
    departments: dict[str, dict[str, bool]] = {}
    try:
        roles = parse_role_mapping(roles_variable[1] or "", normalise=normalise_entry)
    except MappingError as exc:
        problems.append(Problem(roles_variable[0], str(exc)))
    try:
        departments = parse_department_mapping(departments_variable[1] or "", normalise=normalise_entry)
    except MappingError as exc:
        problems.append(Problem(departments_variable[0], str(exc)))
    return GroupMapping(normalise=normalise, roles=roles, departments=departments)


def _set_in_environment(names: tuple[str, ...]) -> list[str]:
    """Which of these (each read by its literal name elsewhere in this module) are set, to a value or a file."""
    present = {key for key, value in os.environ.items() if value}
    return [name for name in names if name in present or f"{name}_FILE" in present]


def _listed(names: list[str]) -> str:
    return f"{', '.join(names)} {'is' if len(names) == 1 else 'are'} set"


# Every variable read here; docs/operations.md lists each (tests/sso/test_conf.py checks).
LDAP_VARIABLES = (
    "LDAP_URL",
    "LDAP_START_TLS",
    "LDAP_CA_FILE",
    "LDAP_TIMEOUT",
    "LDAP_BIND_DN",
    "LDAP_BIND_PASSWORD",
    "LDAP_BIND_PASSWORD_FILE",
    "LDAP_USER_DN_TEMPLATE",
    "LDAP_USER_SEARCH_BASE",
    "LDAP_USER_FILTER",
    "LDAP_USERNAME_ATTRIBUTE",
    "LDAP_NAME_ATTRIBUTES",
    "LDAP_EMAIL_ATTRIBUTE",
    "LDAP_MEMBER_OF_ATTRIBUTE",
    "LDAP_GROUP_SEARCH_BASE",
    "LDAP_GROUP_FILTER",
    "LDAP_GROUP_ROLES",
    "LDAP_GROUP_DEPARTMENTS",
)
OIDC_VARIABLES = (
    "OIDC_ISSUER",
    "OIDC_CLIENT_ID",
    "OIDC_CLIENT_SECRET",
    "OIDC_CLIENT_SECRET_FILE",
    "OIDC_AUTHORIZATION_ENDPOINT",
    "OIDC_TOKEN_ENDPOINT",
    "OIDC_USERINFO_ENDPOINT",
    "OIDC_JWKS_URI",
    "OIDC_END_SESSION_ENDPOINT",
    "OIDC_SCOPES",
    "OIDC_SIGN_ALGORITHM",
    "OIDC_USERNAME_CLAIM",
    "OIDC_GROUPS_CLAIM",
    "OIDC_GROUP_ROLES",
    "OIDC_GROUP_DEPARTMENTS",
    "OIDC_PROVIDER_NAME",
    "OIDC_MFA_AT_PROVIDER",
    "OIDC_TIMEOUT",
)


def ldap_from_env(problems: list[Problem], warnings: list[Problem]) -> LdapSettings | None:
    urls = tuple(env_list("LDAP_URL", []))
    if not urls:
        if stray := _set_in_environment(LDAP_VARIABLES[1:]):
            problems.append(Problem("LDAP_URL", f"not set, but {_listed(stray)}: LDAP sign-in is off"))
        return None
    found: list[Problem] = []
    for url in urls:
        if urlsplit(url).scheme.lower() not in {"ldap", "ldaps"} or not urlsplit(url).hostname:
            found.append(Problem("LDAP_URL", f"{url!r} is not ldap://host[:port] or ldaps://host[:port]"))
    start_tls = env_bool("LDAP_START_TLS", False)
    if start_tls and any(url.lower().startswith("ldaps://") for url in urls):
        found.append(Problem("LDAP_START_TLS", "ldaps:// is TLS already; StartTLS is for ldap:// URLs"))
    if not start_tls and any(
        urlsplit(url).scheme.lower() == "ldap" and urlsplit(url).hostname not in LOOPBACK for url in urls
    ):
        warnings.append(
            Problem("LDAP_START_TLS", "off with an ldap:// URL: every password crosses the network unencrypted")
        )
    ca_file = env_str("LDAP_CA_FILE")
    if ca_file and not Path(ca_file).is_file():
        found.append(Problem("LDAP_CA_FILE", f"{ca_file!r} is not a file"))
    search_base = env_str("LDAP_USER_SEARCH_BASE")
    if not search_base:
        found.append(Problem("LDAP_USER_SEARCH_BASE", "required: where the users are (ou=people,dc=example,dc=com)"))
    user_filter = env_str("LDAP_USER_FILTER", LdapSettings.user_filter) or ""
    if "{username}" not in user_filter or not (user_filter.startswith("(") and user_filter.endswith(")")):
        found.append(Problem("LDAP_USER_FILTER", f"{user_filter!r} must be an LDAP filter containing {{username}}"))
    template = env_str("LDAP_USER_DN_TEMPLATE")
    if template is not None and "{username}" not in template:
        found.append(Problem("LDAP_USER_DN_TEMPLATE", f"{template!r} must contain {{username}}"))
    bind_dn, bind_password = env_str("LDAP_BIND_DN"), env_str("LDAP_BIND_PASSWORD")
    if bind_dn and not bind_password:
        found.append(Problem("LDAP_BIND_PASSWORD", "required with LDAP_BIND_DN (or LDAP_BIND_PASSWORD_FILE)"))
    if not bind_dn and not template:
        found.append(
            Problem(
                "LDAP_BIND_DN",
                "set a service account (LDAP_BIND_DN, LDAP_BIND_PASSWORD) to find users, "
                "or LDAP_USER_DN_TEMPLATE to bind as the user directly",
            )
        )
    group_filter = env_str("LDAP_GROUP_FILTER", LDAP_DEFAULT_GROUP_FILTER) or ""
    if "{user_dn}" not in group_filter and "{username}" not in group_filter:
        found.append(Problem("LDAP_GROUP_FILTER", f"{group_filter!r} must contain {{user_dn}} or {{username}}"))
    groups = _mapping(
        found,
        ("LDAP_GROUP_ROLES", env_str("LDAP_GROUP_ROLES")),
        ("LDAP_GROUP_DEPARTMENTS", env_str("LDAP_GROUP_DEPARTMENTS")),
        normalise_entry=ldap_group_key,
        normalise=ldap_group_key_or_raw,
    )
    problems.extend(found)
    if found:
        return None
    return LdapSettings(
        urls=urls,
        user_search_base=search_base or "",
        user_filter=user_filter,
        user_dn_template=template,
        bind_dn=bind_dn,
        bind_password=bind_password,
        start_tls=start_tls,
        ca_file=ca_file,
        timeout=env_int("LDAP_TIMEOUT", LdapSettings.timeout),
        username_attribute=env_str("LDAP_USERNAME_ATTRIBUTE", LdapSettings.username_attribute) or "",
        name_attributes=tuple(env_list("LDAP_NAME_ATTRIBUTES", list(LdapSettings.name_attributes))),
        email_attribute=env_str("LDAP_EMAIL_ATTRIBUTE", LdapSettings.email_attribute) or "",
        # "-" turns memberOf off (a directory where it means something else).
        member_of_attribute=None
        if env_str("LDAP_MEMBER_OF_ATTRIBUTE") == "-"
        else env_str("LDAP_MEMBER_OF_ATTRIBUTE", "memberOf"),
        group_search_base=env_str("LDAP_GROUP_SEARCH_BASE"),
        group_filter=group_filter,
        groups=groups,
    )


def _is_secure_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK)


def oidc_from_env(problems: list[Problem]) -> OidcSettings | None:
    client_id, issuer = env_str("OIDC_CLIENT_ID"), env_str("OIDC_ISSUER")
    if not client_id and not issuer:
        if stray := _set_in_environment(OIDC_VARIABLES[2:]):
            problems.append(Problem("OIDC_CLIENT_ID", f"not set, but {_listed(stray)}: OIDC sign-in is off"))
        return None
    found: list[Problem] = []
    if not client_id:
        found.append(Problem("OIDC_CLIENT_ID", "required: the client id CloseLoop is registered with at the provider"))
    if not issuer:
        found.append(Problem("OIDC_ISSUER", "required: the provider's issuer URL (https://id.example.com/realms/x)"))
    client_secret = env_str("OIDC_CLIENT_SECRET")
    if not client_secret:
        found.append(Problem("OIDC_CLIENT_SECRET", "required (or OIDC_CLIENT_SECRET_FILE)"))
    endpoints = {}
    for variable, value in (
        ("OIDC_ISSUER", env_str("OIDC_ISSUER")),
        ("OIDC_AUTHORIZATION_ENDPOINT", env_str("OIDC_AUTHORIZATION_ENDPOINT")),
        ("OIDC_TOKEN_ENDPOINT", env_str("OIDC_TOKEN_ENDPOINT")),
        ("OIDC_USERINFO_ENDPOINT", env_str("OIDC_USERINFO_ENDPOINT")),
        ("OIDC_JWKS_URI", env_str("OIDC_JWKS_URI")),
        ("OIDC_END_SESSION_ENDPOINT", env_str("OIDC_END_SESSION_ENDPOINT")),
    ):
        if value and not _is_secure_url(value):
            found.append(Problem(variable, f"{value!r} must be an https:// URL"))
        endpoints[variable.removeprefix("OIDC_").lower()] = value
    scopes = tuple(env_str("OIDC_SCOPES", " ".join(OidcSettings.scopes)).split())
    if "openid" not in scopes:
        found.append(Problem("OIDC_SCOPES", f"{' '.join(scopes)!r} must include openid"))
    algorithm = env_str("OIDC_SIGN_ALGORITHM", OidcSettings.sign_algorithm) or ""
    if algorithm not in OIDC_SIGN_ALGORITHMS:
        found.append(Problem("OIDC_SIGN_ALGORITHM", f"{algorithm!r} is not one of {', '.join(OIDC_SIGN_ALGORITHMS)}"))
    groups = _mapping(
        found,
        ("OIDC_GROUP_ROLES", env_str("OIDC_GROUP_ROLES")),
        ("OIDC_GROUP_DEPARTMENTS", env_str("OIDC_GROUP_DEPARTMENTS")),
        normalise_entry=oidc_group_key,
        normalise=oidc_group_key,
    )
    problems.extend(found)
    if found:
        return None
    return OidcSettings(
        issuer=issuer,  # type: ignore[arg-type]  # checked above: problems stop here when one is missing
        client_id=client_id,  # type: ignore[arg-type]  # checked above: problems stop here when one is missing
        client_secret=client_secret,  # type: ignore[arg-type]  # checked above: problems stop here when one is missing
        authorization_endpoint=endpoints["authorization_endpoint"],
        token_endpoint=endpoints["token_endpoint"],
        userinfo_endpoint=endpoints["userinfo_endpoint"],
        jwks_uri=endpoints["jwks_uri"],
        end_session_endpoint=endpoints["end_session_endpoint"],
        scopes=scopes,
        sign_algorithm=algorithm,
        username_claim=env_str("OIDC_USERNAME_CLAIM", OidcSettings.username_claim) or "",
        groups_claim=env_str("OIDC_GROUPS_CLAIM", OidcSettings.groups_claim) or "",
        provider_name=env_str("OIDC_PROVIDER_NAME"),
        mfa_at_provider=env_bool("OIDC_MFA_AT_PROVIDER", False),
        timeout=env_int("OIDC_TIMEOUT", OidcSettings.timeout),
        groups=groups,
    )


def sso_from_env() -> SsoSettings:
    problems: list[Problem] = []
    warnings: list[Problem] = []
    ldap = ldap_from_env(problems, warnings)
    oidc = oidc_from_env(problems)
    return SsoSettings(ldap=ldap, oidc=oidc, problems=tuple(problems), warnings=tuple(warnings))
