"""Sign a directory account into CloseLoop: find or create its user, update name and e-mail, and sync
the roles and department memberships its groups map to — one transaction, one place for both
LDAP and OpenID Connect.

Rules (docs/decisions.md, "Go-live: single sign-on"):
- the directory's user name is the CloseLoop user name (case-insensitive match), so accounts an
  administrator created by hand become directory accounts on their first directory sign-in;
- deactivated users and superusers are refused and left untouched (superusers are the local
  break-glass accounts and keep their password);
- from the first directory sign-in on, the account has no usable local password: the directory
  decides, and someone disabled there cannot come back in with an old CloseLoop password;
- only roles and departments the mapping names are added or removed; others stay as given by hand;
- the admin role, when mapped, also sets `is_staff` (the Django admin is where administrators work);
- nobody gets in without a role: a new account without a mapped role is not created, and an existing
  one whose last role was withdrawn is refused (the withdrawal is kept).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from closeloop.core.roles import Role
from closeloop.core.types import User
from closeloop.directory.models import Department, Membership
from closeloop.sso.mapping import Grants, GroupMapping

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

logger = logging.getLogger("closeloop.sso")

ROLE_CODES = frozenset(role.value for role in Role)


@dataclass(frozen=True)
class DirectoryAccount:
    """What a directory says about a person who just proved who they are."""

    source: str  # "ldap" or "oidc", for the log
    username: str
    name: str
    email: str
    groups: frozenset[str]


class SignInRefused(Exception):
    """The directory accepted the person, CloseLoop does not. `message` is shown on the login page."""

    def __init__(self, code: str, message: StrOrPromise) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


def _refused(code: str) -> SignInRefused:
    messages = {
        "no_role": _(
            "Your company account is not in any group that gives access to CloseLoop. Ask your administrator."
        ),
        "inactive": _("This account is deactivated in CloseLoop."),
        "superuser": _("Superuser accounts sign in with their CloseLoop password, not with a company account."),
        "ambiguous": _("More than one CloseLoop account has this user name. Ask your administrator."),
        "invalid": _("Your company account has no usable user name. Ask your administrator."),
    }
    return SignInRefused(code, messages[code])


def directory_user_sign_in(*, account: DirectoryAccount, mapping: GroupMapping) -> User:
    """The CloseLoop user for `account`, created or updated; raises SignInRefused."""
    user_model = get_user_model()
    max_length = user_model._meta.get_field("username").max_length or 150
    if not account.username or len(account.username) > max_length:
        raise _refused("invalid")
    grants = mapping.grants(account.groups)
    try:
        user, changes = _sign_in(account, mapping, grants)
    except IntegrityError:
        # Two first sign-ins of the same person at once: the other one created the user; update it.
        user, changes = _sign_in(account, mapping, grants)
    if changes:
        logger.info("%s sign-in of %s: %s", account.source, user.get_username(), "; ".join(changes))
    if not _has_role(user):
        raise _refused("no_role")
    return user


def _sign_in(account: DirectoryAccount, mapping: GroupMapping, grants: Grants) -> tuple[User, list[str]]:
    user_model = get_user_model()
    with transaction.atomic():
        matches = list(user_model.objects.select_for_update(no_key=True).filter(username__iexact=account.username)[:2])
        if len(matches) > 1:
            raise _refused("ambiguous")
        user = matches[0] if matches else None
        if user is not None and not user.is_active:
            raise _refused("inactive")
        if user is not None and user.is_superuser:
            raise _refused("superuser")
        if user is None and not grants.roles:
            raise _refused("no_role")
        changes: list[str] = []
        if user is None:
            user = user_model(username=account.username)
            changes.append("created")
        changes += _apply_profile(user, account, admin_managed=Role.ADMIN in mapping.managed_roles, grants=grants)
        if changes:  # most sign-ins change nothing; login() writes last_login anyway
            user.save()
        changes += _sync_roles(user, grants.roles, mapping.managed_roles)
        changes += _sync_departments(user, grants, mapping.managed_departments, source=account.source)
    return user, changes


def _apply_profile(user: User, account: DirectoryAccount, *, admin_managed: bool, grants: Grants) -> list[str]:
    changes = []
    email = account.email.strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            logger.warning("%s: ignoring e-mail %r of %s, not an address", account.source, email, account.username)
            email = user.email
    # The whole name goes into first_name, as the desk shows it (张伟, not "伟 张").
    wanted = {"first_name": account.name.strip()[:150], "last_name": "", "email": email[:254]}
    for field_name, value in wanted.items():
        if getattr(user, field_name) != value and (value or field_name == "last_name"):
            setattr(user, field_name, value)
            changes.append(f"{field_name} updated")
    if user.has_usable_password():
        # Only when usable: a new unusable value would change the session hash and sign the person
        # out of their other browsers on every sign-in.
        user.set_unusable_password()
        changes.append("local password disabled")
    if admin_managed and user.is_staff != (Role.ADMIN in grants.roles):
        user.is_staff = Role.ADMIN in grants.roles
        changes.append(f"is_staff={user.is_staff}")
    return changes


def _sync_roles(user: User, granted: frozenset[str], managed: frozenset[str]) -> list[str]:
    if not managed:
        return []
    current = set(user.groups.filter(name__in=managed).values_list("name", flat=True))
    add, remove = (granted & managed) - current, current - granted
    if add:
        user.groups.add(*Group.objects.filter(name__in=add))
    if remove:
        user.groups.remove(*Group.objects.filter(name__in=remove))
    return [f"+role {name}" for name in sorted(add)] + [f"-role {name}" for name in sorted(remove)]


def _sync_departments(user: User, grants: Grants, managed: frozenset[str], *, source: str) -> list[str]:
    if not managed:
        return []
    departments = {d.code: d for d in Department.objects.filter(code__in=managed)}
    for code in sorted(set(grants.departments) - set(departments)):
        logger.warning("%s_GROUP_DEPARTMENTS names department %r, which does not exist", source.upper(), code)
    memberships = {
        m.department.code: m
        for m in Membership.objects.select_related("department").filter(user=user, department__code__in=managed)
    }
    changes = []
    for code in sorted(managed):
        wanted, membership = grants.departments.get(code), memberships.get(code)
        if wanted is None and membership is not None:
            membership.delete()
            changes.append(f"-department {code}")
        elif wanted is not None and code in departments:
            if membership is None:
                Membership.objects.create(user=user, department=departments[code], is_manager=wanted)
                changes.append(f"+department {code}{' (manager)' if wanted else ''}")
            elif membership.is_manager != wanted:
                membership.is_manager = wanted
                membership.save(update_fields=["is_manager"])
                changes.append(f"department {code} manager={wanted}")
    return changes


def _has_role(user: User) -> bool:
    return user.groups.filter(name__in=ROLE_CODES).exists()
