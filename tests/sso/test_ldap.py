"""LDAP / Active Directory sign-in against a real slapd (tests/sso/slapd.py): the login page, group →
role and department mapping, just-in-time creation and later updates, refusals, TLS."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from typing import Any

import ldap3
import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from closeloop.core.roles import Role, user_roles
from closeloop.directory.models import Department, Membership
from closeloop.sso.conf import SsoSettings
from tests.sso.slapd import AD_USER_CLASSES, CORP, CORP_SERVICE_DN, EXAMPLE, SERVICE_DN, SERVICE_PASSWORD, Slapd

PEOPLE = f"ou=people,{EXAMPLE}"
PASSWORD = "pw-Secret-1"
AD_PASSWORD = "Ad-Passw0rd"
_uids = itertools.count(1)


def group_dn(name: str) -> str:
    return f"cn={name},ou=groups,{EXAMPLE}"


def example_env(slapd: Slapd, **overrides: str) -> dict[str, str]:
    """The OpenLDAP-style directory with a service account: search, then bind as the user's DN."""
    return {
        "LDAP_URL": slapd.url,
        "LDAP_BIND_DN": SERVICE_DN,
        "LDAP_BIND_PASSWORD": SERVICE_PASSWORD,
        "LDAP_USER_SEARCH_BASE": PEOPLE,
        "LDAP_USER_FILTER": "(&(objectClass=inetOrgPerson)(uid={username}))",
        "LDAP_GROUP_SEARCH_BASE": f"ou=groups,{EXAMPLE}",
        "LDAP_GROUP_ROLES": (
            f"{group_dn('cs-agents')}=agent;"
            # Written with other spacing and case than the directory returns: DNs compare normalised.
            f"CN=CS-Leads, OU=Groups, DC=example, DC=com=agent,cs_supervisor;"
            f"{group_dn('quality-leads')}=dept_manager"
        ),
        "LDAP_GROUP_DEPARTMENTS": f"{group_dn('quality')}=quality\n{group_dn('quality-leads')}=quality:manager",
        **overrides,
    }


@pytest.fixture
def ldap_on(slapd: Slapd, sso_env: Callable[..., SsoSettings]) -> Callable[..., SsoSettings]:
    def configure(**overrides: str) -> SsoSettings:
        sso = sso_env(**example_env(slapd, **overrides))
        assert sso.problems == () and sso.ldap is not None
        return sso

    return configure


def person(
    slapd: Slapd,
    *,
    groups: tuple[str, ...] = (),
    name: str = "王丽",
    password: str = PASSWORD,
    ou: str = PEOPLE,
    mail: str | None = None,
) -> str:
    """A person in the OpenLDAP-style directory, in the given groups; returns the uid."""
    uid = f"p{os.getpid()}n{next(_uids)}"
    dn = f"uid={uid},{ou}"
    slapd.add(
        dn,
        ["inetOrgPerson"],
        {
            "uid": uid,
            "cn": name,
            "sn": name[:1],
            "displayName": name,
            "mail": mail or f"{uid}@example.com",
            "userPassword": password,
        },
    )
    for group in groups:
        change_membership(slapd, uid, group, add=True, ou=ou)
    return uid


def change_membership(slapd: Slapd, uid: str, group: str, *, add: bool, ou: str = PEOPLE) -> None:
    operation = ldap3.MODIFY_ADD if add else ldap3.MODIFY_DELETE
    slapd.modify(group_dn(group), {"member": [(operation, [f"uid={uid},{ou}"])]})


def log_in(client: Client, username: str, password: str = PASSWORD) -> Any:
    return client.post(reverse("login"), {"username": username, "password": password})


def roles_of(username: str) -> set[str]:
    return set(user_roles(User.objects.get(username=username)))


@pytest.mark.django_db
def test_first_login_creates_the_user_with_name_email_mapped_role_and_department(
    ldap_on: Callable[..., SsoSettings], slapd: Slapd, client: Client
) -> None:
    ldap_on()
    uid = person(slapd, groups=("cs-agents", "quality"), name="王丽", mail="wang.li@example.com")

    response = log_in(client, uid)

    assert response.status_code == 302 and response.url == reverse(
        "home"
    )  # the role home (authz.navigation) takes it from there
    user = User.objects.get(username=uid)
    assert (user.get_full_name(), user.email) == ("王丽", "wang.li@example.com")
    assert roles_of(uid) == {Role.AGENT}
    assert list(Membership.objects.filter(user=user).values_list("department__code", "is_manager")) == [
        ("quality", False)
    ]
    assert not user.has_usable_password()  # the directory decides from now on
    assert client.get(reverse("desk:queue")).status_code == 200


@pytest.mark.django_db
def test_a_department_manager_gets_the_role_and_manages_the_mapped_department(
    ldap_on: Callable[..., SsoSettings], slapd: Slapd, client: Client
) -> None:
    ldap_on()
    uid = person(slapd, groups=("quality-leads", "quality"))

    assert log_in(client, uid).status_code == 302

    assert roles_of(uid) == {Role.DEPT_MANAGER}
    membership = Membership.objects.get(user__username=uid)
    assert (membership.department.code, membership.is_manager) == ("quality", True)


@pytest.mark.django_db
def test_a_cs_lead_gets_every_role_of_the_group(
    ldap_on: Callable[..., SsoSettings], slapd: Slapd, client: Client
) -> None:
    ldap_on()
    uid = person(slapd, groups=("cs-leads",))

    assert log_in(client, uid).status_code == 302

    assert roles_of(uid) == {Role.AGENT, Role.CS_SUPERVISOR}
    assert not Membership.objects.filter(user__username=uid).exists()


@pytest.mark.django_db
def test_next_login_updates_name_email_and_mapped_roles_and_leaves_the_others_alone(
    ldap_on: Callable[..., SsoSettings], slapd: Slapd, client: Client
) -> None:
    ldap_on()
    uid = person(slapd, groups=("cs-agents", "quality"), name="王丽")
    assert log_in(client, uid).status_code == 302
    user = User.objects.get(username=uid)
    # Given by hand in CloseLoop: a role and a department no mapping names.
    user.groups.add(Group.objects.get(name=Role.AUDITOR))
    Membership.objects.create(user=user, department=Department.objects.get(code="tech"))
    # In the directory: a new name and address, promoted to lead, out of the quality group.
    slapd.modify(
        f"uid={uid},{PEOPLE}",
        {"displayName": [(ldap3.MODIFY_REPLACE, ["王丽华"])], "mail": [(ldap3.MODIFY_REPLACE, ["lihua@example.com"])]},
    )
    change_membership(slapd, uid, "cs-agents", add=False)
    change_membership(slapd, uid, "cs-leads", add=True)
    change_membership(slapd, uid, "quality", add=False)
    client.post(reverse("logout"))

    assert log_in(client, uid).status_code == 302

    user.refresh_from_db()
    assert (user.get_full_name(), user.email) == ("王丽华", "lihua@example.com")
    assert roles_of(uid) == {Role.AGENT, Role.CS_SUPERVISOR, Role.AUDITOR}
    assert set(Membership.objects.filter(user=user).values_list("department__code", flat=True)) == {"tech"}
    assert User.objects.filter(username__iexact=uid).count() == 1


@pytest.mark.django_db
def test_losing_a_mapped_group_withdraws_the_role_on_the_next_login(
    ldap_on: Callable[..., SsoSettings], slapd: Slapd, client: Client
) -> None:
    ldap_on()
    uid = person(slapd, groups=("cs-leads",))
    assert log_in(client, uid).status_code == 302
    client.post(reverse("logout"))
    change_membership(slapd, uid, "cs-leads", add=False)
    change_membership(slapd, uid, "cs-agents", add=True)

    assert log_in(client, uid).status_code == 302

    assert roles_of(uid) == {Role.AGENT}


@pytest.mark.django_db
def test_wrong_password_and_unknown_user_are_refused_and_create_nobody(
    ldap_on: Callable[..., SsoSettings], slapd: Slapd, client: Client
) -> None:
    ldap_on()
    uid = person(slapd, groups=("cs-agents",))

    wrong = log_in(client, uid, password="not-the-password")
    unknown = log_in(client, "nobody-here")

    for response in (wrong, unknown):
        assert response.status_code == 200
        assert response.context["form"].errors
    assert not User.objects.filter(username__in=[uid, "nobody-here"]).exists()


@pytest.mark.django_db
def test_someone_in_no_mapped_group_is_refused_with_a_reason_and_not_created(
    ldap_on: Callable[..., SsoSettings], slapd: Slapd, client: Client
) -> None:
    ldap_on()
    uid = person(slapd, groups=("canteen",))

    response = log_in(client, uid)

    assert response.status_code == 200
    assert "not in any group that gives access" in response.content.decode()
    assert not User.objects.filter(username=uid).exists()


@pytest.mark.django_db
def test_an_account_whose_last_role_the_directory_withdrew_is_refused_and_keeps_no_role(
    ldap_on: Callable[..., SsoSettings], slapd: Slapd, client: Client
) -> None:
    ldap_on()
    uid = person(slapd, groups=("cs-agents",))
    assert log_in(client, uid).status_code == 302
    client.post(reverse("logout"))
    change_membership(slapd, uid, "cs-agents", add=False)

    assert log_in(client, uid).status_code == 200

    assert roles_of(uid) == set()  # withdrawn: an API token of this user can do nothing either


@pytest.mark.django_db
def test_a_deactivated_user_stays_refused_although_the_directory_accepts_the_password(
    ldap_on: Callable[..., SsoSettings], slapd: Slapd, client: Client
) -> None:
    ldap_on()
    uid = person(slapd, groups=("cs-agents", "cs-leads"), name="新名字")
    local = User.objects.create_user(uid, first_name="旧名字", is_active=False)
    local.groups.add(Group.objects.get(name=Role.AGENT))

    response = log_in(client, uid)

    assert response.status_code == 200
    assert "deactivated" in response.content.decode()
    local.refresh_from_db()
    assert (local.is_active, local.first_name) == (False, "旧名字")
    assert list(local.groups.values_list("name", flat=True)) == [Role.AGENT]  # cs-leads not synced


@pytest.mark.django_db
def test_an_existing_local_account_becomes_the_directory_account_and_loses_its_local_password(
    ldap_on: Callable[..., SsoSettings], slapd: Slapd, client: Client
) -> None:
    ldap_on()
    uid = person(slapd, groups=("cs-agents",), password="directory-pw-1")
    local = User.objects.create_user(uid.upper(), password="old-local-pw")  # made by hand, other case

    assert log_in(client, uid, password="directory-pw-1").status_code == 302

    local.refresh_from_db()
    assert not local.has_usable_password()
    assert User.objects.filter(username__iexact=uid).count() == 1
    client.post(reverse("logout"))
    assert log_in(client, uid.upper(), password="old-local-pw").status_code == 200


@pytest.mark.django_db
def test_a_superuser_is_never_entered_through_the_directory(
    ldap_on: Callable[..., SsoSettings], slapd: Slapd, client: Client
) -> None:
    ldap_on()
    uid = person(slapd, groups=("cs-agents",), password="directory-pw-1")
    User.objects.create_superuser(uid, password="break-glass-pw")

    assert log_in(client, uid, password="directory-pw-1").status_code == 200
    assert log_in(client, uid, password="break-glass-pw").status_code == 302  # the local password still works


@pytest.mark.django_db
def test_direct_bind_without_a_service_account_reads_entry_and_groups_as_the_user(
    ldap_on: Callable[..., SsoSettings], slapd: Slapd, client: Client
) -> None:
    ldap_on(
        LDAP_BIND_DN="",
        LDAP_BIND_PASSWORD="",
        LDAP_USER_DN_TEMPLATE=f"uid={{username}},{PEOPLE}",
    )
    uid = person(slapd, groups=("cs-agents",))

    assert log_in(client, uid).status_code == 302
    assert roles_of(uid) == {Role.AGENT}
    assert log_in(Client(), uid, password="wrong").status_code == 200


@pytest.mark.django_db
def test_the_service_account_finds_users_in_any_ou_below_the_search_base(
    ldap_on: Callable[..., SsoSettings], slapd: Slapd, client: Client
) -> None:
    ldap_on()
    uid = person(slapd, groups=("cs-agents",), ou=f"ou=sales,{PEOPLE}")

    assert log_in(client, uid).status_code == 302


@pytest.mark.django_db
def test_a_wrong_service_account_password_says_the_directory_cannot_be_asked(
    ldap_on: Callable[..., SsoSettings], slapd: Slapd, client: Client
) -> None:
    ldap_on(LDAP_BIND_PASSWORD="not-the-service-password")
    uid = person(slapd, groups=("cs-agents",))

    response = log_in(client, uid)

    assert response.status_code == 200
    assert "cannot be reached" in response.content.decode()


@pytest.mark.django_db
def test_a_directory_that_is_down_refuses_with_a_message_not_an_error_page(
    ldap_on: Callable[..., SsoSettings], slapd: Slapd, client: Client
) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    ldap_on(LDAP_URL=f"ldap://127.0.0.1:{closed}", LDAP_TIMEOUT="2")

    response = log_in(client, "anyone")

    assert response.status_code == 200
    assert "cannot be reached" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("transport", ["starttls", "ldaps"])
def test_tls_to_the_directory_with_the_company_ca(
    transport: str, ldap_on: Callable[..., SsoSettings], slapd: Slapd, client: Client
) -> None:
    if transport == "starttls":
        ldap_on(LDAP_START_TLS="true", LDAP_CA_FILE=slapd.ca_file)
    else:
        ldap_on(LDAP_URL=slapd.ldaps_url, LDAP_CA_FILE=slapd.ca_file)
    uid = person(slapd, groups=("cs-agents",))

    assert log_in(client, uid).status_code == 302


@pytest.mark.django_db
def test_a_certificate_from_an_unknown_ca_is_refused(
    ldap_on: Callable[..., SsoSettings], slapd: Slapd, client: Client
) -> None:
    ldap_on(LDAP_URL=slapd.ldaps_url)  # no LDAP_CA_FILE: the system's CAs do not know the test CA
    uid = person(slapd, groups=("cs-agents",))

    response = log_in(client, uid)

    assert response.status_code == 200
    assert not User.objects.filter(username=uid).exists()


AD_AGENTS = f"CN=CloseLoop Agents,OU=Groups,{CORP}"


def ad_user(slapd: Slapd, sam: str, *, member_of: list[str], password: str = AD_PASSWORD) -> str:
    """A user as Active Directory keeps it: sAMAccountName, userPrincipalName, memberOf on the entry."""
    dn = f"CN=Zhang Wei {sam},CN=Users,{CORP}"
    slapd.add(
        dn,
        AD_USER_CLASSES,
        {
            "instanceType": 4,
            "nTSecurityDescriptor": b"\x01",
            "objectCategory": f"CN=Person,CN=Schema,{CORP}",
            "cn": f"Zhang Wei {sam}",
            "sn": "张",
            "givenName": "伟",
            "displayName": "张伟",
            "sAMAccountName": sam,
            "userPrincipalName": f"{sam}@corp.example",
            "mail": f"{sam}@corp.example",
            "memberOf": member_of,
            "userPassword": password,
        },
    )
    return dn


@pytest.mark.django_db
def test_active_directory_style_login_by_user_principal_name_or_sam_account_name_with_member_of(
    slapd: Slapd, sso_env: Callable[..., SsoSettings], client: Client
) -> None:
    sso = sso_env(
        LDAP_URL=slapd.url,
        LDAP_BIND_DN=CORP_SERVICE_DN,
        LDAP_BIND_PASSWORD=SERVICE_PASSWORD,
        LDAP_USER_SEARCH_BASE=CORP,
        LDAP_USER_FILTER="(&(objectClass=user)(|(sAMAccountName={username})(userPrincipalName={username})))",
        LDAP_USERNAME_ATTRIBUTE="sAMAccountName",
        LDAP_GROUP_ROLES=f"{AD_AGENTS}=agent",
        # No LDAP_GROUP_SEARCH_BASE: the groups are the entry's memberOf values.
    )
    assert sso.problems == ()
    sam = f"zhangwei{next(_uids)}"
    ad_user(slapd, sam, member_of=[AD_AGENTS])

    assert log_in(client, f"{sam}@corp.example", password=AD_PASSWORD).status_code == 302
    client.post(reverse("logout"))
    assert log_in(client, sam, password=AD_PASSWORD).status_code == 302

    user = User.objects.get(username=sam)  # one account, named by sAMAccountName
    assert (user.get_full_name(), user.email) == ("张伟", f"{sam}@corp.example")
    assert roles_of(sam) == {Role.AGENT}


@pytest.mark.django_db
def test_authenticate_without_a_request_works_for_other_callers(
    ldap_on: Callable[..., SsoSettings], slapd: Slapd
) -> None:
    ldap_on()
    uid = person(slapd, groups=("cs-agents",))

    user = authenticate(None, username=uid, password=PASSWORD)

    assert user is not None and user.get_username() == uid
    assert authenticate(None, username=uid, password="") is None
