"""Every environment variable CloseLoop reads is in the Configuration tables of docs/operations.md
with a default, and every variable there is read: the code under closeloop/ is scanned for the names
passed to closeloop/env.py's helpers and to os.environ / os.getenv."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV_HELPERS = {
    "env_raw",
    "env_str",
    "env_bool",
    "env_int",
    "env_list",
    "env_url",
    "env_proxy_ssl_header",
    "env_email_url",
    "env_json",
    "env_ca_file",
}


def _is_os_environ(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ" and isinstance(node.value, ast.Name)


def _read_names(tree: ast.AST, path: Path) -> tuple[set[str], list[str]]:
    """(names read with a constant name, places that read a computed name)."""
    names: set[str] = set()
    computed: list[str] = []
    for node in ast.walk(tree):
        argument: ast.AST | None = None
        if isinstance(node, ast.Call):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            is_environ_get = isinstance(func, ast.Attribute) and func.attr == "get" and _is_os_environ(func.value)
            if (called in ENV_HELPERS or is_environ_get or called == "getenv") and node.args:
                argument = node.args[0]
        elif isinstance(node, ast.Subscript) and _is_os_environ(node.value) and isinstance(node.ctx, ast.Load):
            argument = node.slice
        elif isinstance(node, ast.Compare) and any(_is_os_environ(c) for c in node.comparators):
            argument = node.left  # "NAME" in os.environ
        if argument is None:
            continue
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            names.add(argument.value)
        else:
            computed.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return names, computed


def variables_read() -> tuple[set[str], list[str]]:
    names: set[str] = set()
    computed: list[str] = []
    for path in sorted((ROOT / "closeloop").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        found, dynamic = _read_names(ast.parse(path.read_text(encoding="utf-8")), path)
        names |= found
        # The helpers themselves read whatever name they are given.
        if path != ROOT / "closeloop" / "env.py":
            computed += dynamic
    return names, computed


def documented_variables() -> dict[str, str]:
    """Variable → its default cell, from the tables of the Configuration section."""
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    section = text[text.index("## Configuration") :]
    section = section[: section.index("\n## ", 1)]
    documented: dict[str, str] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 3 or set(cells[0]) <= {"-"} or cells[0] == "variable":
            continue
        for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[0]):
            documented[name] = cells[1]
    return documented


def test_names_are_read_as_constants() -> None:
    _, computed = variables_read()
    assert computed == [], "read environment variables by a literal name so that this test can see them"


def test_the_scan_finds_what_settings_read() -> None:
    names, _ = variables_read()
    # A few that are certainly read, through different paths (a helper, and the serve command's check).
    assert {"SITE_URL", "EMAIL_URL", "SECRET_KEY", "HTTPS", "DATABASE_URL", "PORT"} <= names


def test_every_variable_read_is_documented_with_a_default() -> None:
    names, _ = variables_read()
    documented = documented_variables()
    # NAME_FILE is covered by the general rule above the tables once NAME is documented.
    missing = sorted(n for n in names - set(documented) if n.removesuffix("_FILE") not in documented)
    assert missing == [], f"add these to the Configuration tables of docs/operations.md: {missing}"
    no_default = sorted(name for name in names if name in documented and not documented[name])
    assert no_default == []


def test_every_documented_variable_is_read() -> None:
    names, _ = variables_read()
    stale = sorted(
        name
        for name in documented_variables()
        if name not in names and not (name.endswith("_FILE") and name.removesuffix("_FILE") in names)
    )
    assert stale == [], f"documented but read nowhere: {stale}"


def test_secrets_have_their_file_variant_documented() -> None:
    documented = documented_variables()
    for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "EMAIL_URL"):
        assert f"{name}_FILE" in documented
