"""Reading the single sign-on configuration: the mapping syntax, and misconfigurations reported by a
system check that names the variable (and that sign-in stays off)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from closeloop.env import ImproperEnvironment, env_str
from closeloop.sso.conf import LDAP_VARIABLES, OIDC_VARIABLES, SsoSettings
from closeloop.sso.mapping import (
    GroupMapping,
    MappingError,
    ldap_group_key,
    ldap_group_key_or_raw,
    oidc_group_key,
    parse_department_mapping,
    parse_role_mapping,
)

ROOT = Path(__file__).resolve().parents[2]
LDAP_MINIMAL = {
    "LDAP_URL": "ldaps://dc1.corp.example.com",
    "LDAP_BIND_DN": "CN=svc-closeloop,OU=Service,DC=corp,DC=example,DC=com",
    "LDAP_BIND_PASSWORD": "secret",
    "LDAP_USER_SEARCH_BASE": "DC=corp,DC=example,DC=com",
}


def test_a_group_dn_is_split_from_its_roles_at_the_last_equals_sign_and_compared_normalised() -> None:
    roles = parse_role_mapping(
        "cn=cs-agents,ou=groups,dc=example,dc=com=agent;\n"
        " CN=CS Leads, OU=Groups,DC=Example,DC=com = agent, cs_supervisor",
        normalise=ldap_group_key,
    )
    mapping = GroupMapping(normalise=ldap_group_key_or_raw, roles=roles)

    grants = mapping.grants(["cn=CS leads,ou=groups,dc=example,dc=com", "cn=canteen,ou=groups,dc=example,dc=com"])

    assert grants.roles == {"agent", "cs_supervisor"}
    assert mapping.managed_roles == {"agent", "cs_supervisor"}


def test_an_escaped_semicolon_belongs_to_the_dn() -> None:
    roles = parse_role_mapping(r"cn=R\;D,ou=groups,dc=example,dc=com=handler", normalise=ldap_group_key)

    assert roles == {ldap_group_key(r"cn=R\;D,ou=groups,dc=example,dc=com"): frozenset({"handler"})}


def test_departments_with_manager_flag_and_the_strongest_of_several_groups_wins() -> None:
    departments = parse_department_mapping(
        "Quality=quality;Quality-Managers=quality:manager,tech", normalise=oidc_group_key
    )
    mapping = GroupMapping(normalise=oidc_group_key, departments=departments)

    assert dict(mapping.grants(["quality", "QUALITY-managers"]).departments) == {"quality": True, "tech": False}
    assert dict(mapping.grants(["Quality"]).departments) == {"quality": False}
    assert mapping.managed_departments == {"quality", "tech"}


@pytest.mark.parametrize(
    ("text", "parser", "complaint"),
    [
        # Without "=<role>" the last "=" is the DN's own: what is left of it is no DN.
        ("cn=agents,dc=example,dc=com", parse_role_mapping, "'cn=agents,dc=example,dc' is not a distinguished name"),
        ("agents=", parse_role_mapping, "is not <group>=<value>"),
        ("not a dn=agent", parse_role_mapping, "is not a distinguished name"),
        ("cn=agents,dc=example,dc=com=Agent!", parse_role_mapping, "is not a role code"),
        ("cn=q,dc=example,dc=com=quality:boss", parse_department_mapping, "is not a department code"),
    ],
)
def test_an_unreadable_entry_is_quoted(text: str, parser: Callable[..., object], complaint: str) -> None:
    with pytest.raises(MappingError, match=re.escape(complaint)):
        parser(text, normalise=ldap_group_key)


@pytest.mark.parametrize(
    ("variables", "named", "says"),
    [
        ({"LDAP_USER_SEARCH_BASE": ""}, "LDAP_USER_SEARCH_BASE", "required"),
        ({"LDAP_USER_FILTER": "(sAMAccountName=%s)"}, "LDAP_USER_FILTER", "{username}"),
        ({"LDAP_BIND_PASSWORD": ""}, "LDAP_BIND_PASSWORD", "required with LDAP_BIND_DN"),
        ({"LDAP_BIND_DN": "", "LDAP_BIND_PASSWORD": ""}, "LDAP_BIND_DN", "LDAP_USER_DN_TEMPLATE"),
        ({"LDAP_URL": "dc1.corp.example.com"}, "LDAP_URL", "ldap://host"),
        ({"LDAP_START_TLS": "true"}, "LDAP_START_TLS", "ldaps:// is TLS already"),
        ({"LDAP_CA_FILE": "/nonexistent/ca.pem"}, "LDAP_CA_FILE", "is not a file"),
        ({"LDAP_GROUP_ROLES": "CN=Agents,DC=corp=agent;oops"}, "LDAP_GROUP_ROLES", "'oops'"),
        ({"LDAP_GROUP_FILTER": "(member=%s)"}, "LDAP_GROUP_FILTER", "{user_dn}"),
    ],
)
def test_a_misconfigured_ldap_sign_in_is_off_and_the_check_names_the_variable(
    variables: dict[str, str], named: str, says: str, sso_env: Callable[..., SsoSettings]
) -> None:
    sso = sso_env(**(LDAP_MINIMAL | variables))

    assert sso.ldap is None and sso.backends == []
    with pytest.raises(SystemCheckError, match=rf"\(sso\.E001\) {named}: .*{re.escape(says)}"):
        call_command("check")


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"OIDC_CLIENT_SECRET": ""}, "OIDC_CLIENT_SECRET"),
        ({"OIDC_ISSUER": ""}, "OIDC_ISSUER"),
        ({"OIDC_ISSUER": "http://id.example.com/realms/x"}, "OIDC_ISSUER"),  # plain http off this machine
        ({"OIDC_SCOPES": "profile email"}, "OIDC_SCOPES"),
        ({"OIDC_SIGN_ALGORITHM": "HS256"}, "OIDC_SIGN_ALGORITHM"),
        ({"OIDC_CLIENT_ID": ""}, "OIDC_CLIENT_ID"),
    ],
)
def test_a_misconfigured_oidc_sign_in_is_off_and_the_check_names_the_variable(
    variables: dict[str, str], named: str, sso_env: Callable[..., SsoSettings]
) -> None:
    good = {"OIDC_ISSUER": "https://id.example.com/realms/x", "OIDC_CLIENT_ID": "closeloop", "OIDC_CLIENT_SECRET": "s"}
    sso = sso_env(**(good | variables))

    assert sso.oidc is None
    assert [m.msg.split(":")[0] for m in run_checks(tags=["sso"])] == [named]


def test_variables_without_the_one_that_turns_the_sign_in_on_are_reported(sso_env: Callable[..., SsoSettings]) -> None:
    sso_env(LDAP_GROUP_ROLES="cn=a,dc=example,dc=com=agent", OIDC_CLIENT_SECRET="s")

    assert [m.msg.split(":")[0] for m in run_checks(tags=["sso"])] == ["LDAP_URL", "OIDC_CLIENT_ID"]


def test_an_unknown_role_is_named_by_the_check(sso_env: Callable[..., SsoSettings]) -> None:
    sso_env(**LDAP_MINIMAL, LDAP_GROUP_ROLES="CN=CS,DC=corp,DC=example,DC=com=agent,supervisor")

    messages = [m.msg for m in run_checks(tags=["sso"])]

    assert messages == [
        "LDAP_GROUP_ROLES: 'supervisor' is not a role (roles: admin, agent, auditor, cs_supervisor, "
        "dept_manager, handler, management, quality)"
    ]


def test_a_configured_sign_in_missing_from_the_backends_is_reported(
    sso_env: Callable[..., SsoSettings], settings: object
) -> None:
    sso_env(**LDAP_MINIMAL)
    settings.AUTHENTICATION_BACKENDS = ["closeloop.core.backends.ModelBackendOneQuery"]  # type: ignore[attr-defined]

    assert [m.id for m in run_checks(tags=["sso"])] == ["sso.E002"]


def test_a_directory_connection_without_tls_is_warned_about(sso_env: Callable[..., SsoSettings]) -> None:
    sso = sso_env(**(LDAP_MINIMAL | {"LDAP_URL": "ldap://dc1.corp.example.com"}))

    assert sso.ldap is not None  # it works
    assert [(m.id, m.msg.split(":")[0]) for m in run_checks(tags=["sso"])] == [("sso.W001", "LDAP_START_TLS")]
    sso_env(**(LDAP_MINIMAL | {"LDAP_URL": "ldap://dc1.corp.example.com", "LDAP_START_TLS": "true"}))
    assert run_checks(tags=["sso"]) == []


def test_a_good_configuration_passes_the_check(sso_env: Callable[..., SsoSettings]) -> None:
    sso = sso_env(**LDAP_MINIMAL, LDAP_GROUP_ROLES="CN=CS,DC=corp,DC=example,DC=com=agent")

    assert sso.ldap is not None and sso.ldap.urls == ("ldaps://dc1.corp.example.com",)
    assert run_checks(tags=["sso"]) == []


def test_secrets_come_from_the_variable_or_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret_file = tmp_path / "ldap-password"
    secret_file.write_text("from-a-file\n")
    monkeypatch.delenv("LDAP_BIND_PASSWORD", raising=False)
    monkeypatch.setenv("LDAP_BIND_PASSWORD_FILE", str(secret_file))
    assert env_str("LDAP_BIND_PASSWORD") == "from-a-file"

    monkeypatch.setenv("LDAP_BIND_PASSWORD", "also-set")
    with pytest.raises(ImproperEnvironment, match="LDAP_BIND_PASSWORD and LDAP_BIND_PASSWORD_FILE are both set"):
        env_str("LDAP_BIND_PASSWORD")


def test_every_variable_is_documented_in_the_configuration_table() -> None:
    operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    start = operations.index("## Configuration")
    table = operations[start : operations.index("\n## ", start + 1)]

    assert [name for name in (*LDAP_VARIABLES, *OIDC_VARIABLES) if f"`{name}`" not in table] == []
