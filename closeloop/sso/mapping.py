"""Directory groups → CloseLoop roles and department memberships.

Both are written as text in the environment (`LDAP_GROUP_ROLES`, `OIDC_GROUP_DEPARTMENTS`, …): entries
separated by `;` or new lines, each `<group>=<value>[,<value>…]`, split at the entry's **last** `=`.
An LDAP group is a DN full of `=`; a role or department code never contains one, so the split is
unambiguous:

    cn=cs-agents,ou=groups,dc=example,dc=com=agent;cn=cs-leads,ou=groups,dc=example,dc=com=agent,cs_supervisor

Role values are the codes of `closeloop.core.roles.Role` (checked by the system check: this module is
read while Django's settings load, before any model can be imported); department values are
department codes, with `:manager` for the department's managers (`quality:manager`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ldap3.core.exceptions import LDAPInvalidDnError
from ldap3.utils.dn import parse_dn

# A `;` escaped in a DN (`\;`) belongs to the DN.
_ENTRY_SEPARATOR = re.compile(r"(?<!\\);|\n")
MANAGER_SUFFIX = ":manager"


class MappingError(ValueError):
    """A mapping entry that cannot be read; the message quotes the entry (the caller names the variable)."""


def ldap_group_key(dn: str) -> str:
    """A group DN as compared: attribute names and values lower-cased, spaces around separators dropped
    (directories compare DNs case-insensitively: `CN=CS Agents, OU=Groups` is `cn=cs agents,ou=groups`)."""
    parts = parse_dn(dn, strip=True)
    return "".join(f"{attr.lower()}={value.lower()}{separator}" for attr, value, separator in parts)


def ldap_group_key_or_raw(dn: str) -> str:
    """For DNs a directory returns: compared normalised, and lower-cased as they are if unparsable."""
    try:
        return ldap_group_key(dn)
    except LDAPInvalidDnError:
        return dn.strip().lower()


def oidc_group_key(name: str) -> str:
    """OpenID Connect group names (a `groups` claim) are compared case-insensitively."""
    return name.strip().casefold()


def _entries(text: str) -> Iterable[tuple[str, list[str]]]:
    for raw in _ENTRY_SEPARATOR.split(text):
        entry = raw.strip()
        if not entry:
            continue
        group, equals, values = entry.rpartition("=")
        targets = [value.strip() for value in values.split(",") if value.strip()]
        if not equals or not group.strip() or not targets:
            raise MappingError(f"{entry!r} is not <group>=<value>")
        yield group.strip(), targets


def _group_key(group: str, normalise: Callable[[str], str]) -> str:
    try:
        return normalise(group)
    except LDAPInvalidDnError:
        raise MappingError(
            f"{group!r} is not a distinguished name; entries are <group DN>=<value> (cn=…,ou=…,dc=…=agent)"
        ) from None


def parse_role_mapping(text: str, *, normalise: Callable[[str], str]) -> dict[str, frozenset[str]]:
    mapping: dict[str, set[str]] = {}
    for group, roles in _entries(text):
        for role in roles:
            if not re.fullmatch(r"[a-z_]+", role):
                raise MappingError(f"{role!r} is not a role code (agent, handler, …)")
        mapping.setdefault(_group_key(group, normalise), set()).update(roles)
    return {group: frozenset(roles) for group, roles in mapping.items()}


def parse_department_mapping(text: str, *, normalise: Callable[[str], str]) -> dict[str, dict[str, bool]]:
    """Group → {department code: is manager}."""
    mapping: dict[str, dict[str, bool]] = {}
    for group, targets in _entries(text):
        departments = mapping.setdefault(_group_key(group, normalise), {})
        for target in targets:
            code, manager = target.removesuffix(MANAGER_SUFFIX), target.endswith(MANAGER_SUFFIX)
            if not re.fullmatch(r"[-a-zA-Z0-9_]+", code):
                raise MappingError(f"{target!r} is not a department code, optionally with {MANAGER_SUFFIX}")
            departments[code] = departments.get(code, False) or manager
    return mapping


@dataclass(frozen=True)
class Grants:
    """What a person's groups give them."""

    roles: frozenset[str]
    departments: Mapping[str, bool]  # department code → is manager


@dataclass(frozen=True)
class GroupMapping:
    """One source's mapping. Only the roles and departments it names are *managed*: a sign-in adds and
    removes those and leaves every other role and membership (given by hand in CloseLoop) alone."""

    normalise: Callable[[str], str]
    roles: Mapping[str, frozenset[str]] = field(default_factory=dict)
    departments: Mapping[str, Mapping[str, bool]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "roles", MappingProxyType(dict(self.roles)))
        object.__setattr__(self, "departments", MappingProxyType(dict(self.departments)))

    @property
    def managed_roles(self) -> frozenset[str]:
        return frozenset().union(*self.roles.values())

    @property
    def managed_departments(self) -> frozenset[str]:
        return frozenset(code for departments in self.departments.values() for code in departments)

    def grants(self, groups: Iterable[str]) -> Grants:
        keys = {self.normalise(group) for group in groups}
        roles: set[str] = set()
        departments: dict[str, bool] = {}
        for key in keys:
            roles |= self.roles.get(key, frozenset())
            for code, manager in self.departments.get(key, {}).items():
                departments[code] = departments.get(code, False) or manager
        return Grants(roles=frozenset(roles), departments=MappingProxyType(departments))
