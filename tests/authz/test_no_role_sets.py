"""No set of roles outside closeloop/authz: a module that needs "who may" asks authz, and a lifecycle
row names one of authz's role groups."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "closeloop"
# Lists of role codes that are no authorization, each with why.
EXEMPT = {
    # TOTP_REQUIRED_ROLES' default: configuration, read from the environment (docs/operations.md).
    "closeloop/settings.py",
    # The default escalation ladder: policy data, stored on each policy and edited in the admin.
    "closeloop/sla/models.py",
    # The demo's usernames, which happen to be role codes.
    "closeloop/demo/handling.py",
    "closeloop/serviceorders/demo.py",
}
# Converted step by step to closeloop/authz (issue 13); empty when done.
NOT_YET: set[str] = set()
ROLE_CODES = {"agent", "cs_supervisor", "handler", "dept_manager", "quality", "auditor", "management", "admin"}


def _is_role(node: ast.expr) -> bool:
    """`Role.X` or `Role.X.value`."""
    if isinstance(node, ast.Attribute) and node.attr == "value":
        node = node.value
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Role"


def role_sets(source: str, filename: str = "<test>") -> list[int]:
    """Lines of set, frozenset, tuple and list literals made of roles only: `Role.X`, or two role codes
    or more. (A tuple that holds one role among other things, a demo user's spec, is no set of roles.)"""
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Set | ast.Tuple | ast.List):
            elements = node.elts
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in {"frozenset", "set"}:
            elements = [e for arg in node.args if isinstance(arg, ast.Set | ast.Tuple | ast.List) for e in arg.elts]
        else:
            continue
        roles = [e for e in elements if _is_role(e) or (isinstance(e, ast.Constant) and e.value in ROLE_CODES)]
        if roles and len(roles) == len(elements) and (any(_is_role(e) for e in roles) or len(roles) >= 2):
            found.append(node.lineno)
    return sorted(set(found))


def test_the_checker_finds_role_sets() -> None:
    assert role_sets("X = frozenset({Role.AGENT, Role.CS_SUPERVISOR})") == [1]
    assert role_sets("if roles <= {Role.AUDITOR}: pass") == [1]
    assert role_sets("qs.filter(groups__name__in=[Role.AGENT.value, Role.HANDLER.value])") == [1]
    assert role_sets("ROLES = ('agent', 'cs_supervisor')") == [1]
    assert role_sets("x = Role.AGENT in roles\ny = ('agent',)\nz = {1, 2}\nspec = ('demo', Role.AGENT.value)") == []


def test_no_role_set_outside_authz() -> None:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[1] == "authz" or "migrations" in relative.parts or str(relative) in EXEMPT | NOT_YET:
            continue
        if lines := role_sets(path.read_text(encoding="utf-8"), str(path)):
            found[str(relative)] = lines
    assert found == {}


def test_no_template_tests_roles() -> None:
    """Templates ask `may.<app>.<verb>` (or `{% has_perm %}`), never the role list."""
    found = [
        str(path.relative_to(ROOT))
        for path in sorted(PACKAGE.rglob("*.html"))
        if str(path.relative_to(ROOT)) not in NOT_YET
        and re.search(r"\bin user_roles\b|\bif user_roles\b", path.read_text(encoding="utf-8"))
    ]
    assert found == []
