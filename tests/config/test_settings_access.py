"""Code reads `settings.X`, and every X exists in closeloop/settings.py (or is one of Django's own):
no `getattr(settings, "X", default)`, whose default silently wins when the setting is misspelt or was
never added (how survey links came to point at http://127.0.0.1:8000)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from django.conf import global_settings

import closeloop.settings as project_settings

ROOT = Path(__file__).resolve().parents[2]
GETATTR_SETTINGS = re.compile(r"\b(?:getattr|hasattr)\(\s*(?:django\.conf\.)?settings\s*,")


def python_files() -> list[Path]:
    return [p for p in sorted((ROOT / "closeloop").rglob("*.py")) if "migrations" not in p.parts]


def test_no_getattr_on_settings() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in python_files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if GETATTR_SETTINGS.search(line)
    ]
    assert offenders == []


def settings_read() -> dict[str, str]:
    """Setting name → first place it is read as `settings.NAME`."""
    found: dict[str, str] = {}
    for path in python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "settings"
                and node.attr.isupper()
            ):
                found.setdefault(node.attr, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_setting_read_is_defined() -> None:
    read = settings_read()
    assert {"SITE_URL", "KPI_CACHE_SECONDS", "PORTAL_GRANT_SECONDS", "PORTAL_MAX_ATTACHMENTS"} <= set(read)
    undefined = {
        name: where
        for name, where in read.items()
        if not hasattr(project_settings, name) and not hasattr(global_settings, name)
    }
    assert undefined == {}
