"""简体中文 is the default interface language: every message of the code has a translation."""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "closeloop" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[-.\d]*[sdf]|%[sd]|\{\{ ?[a-z_.]+ ?\}\}")


def test_every_message_is_translated_with_its_placeholders():
    po = polib.pofile(str(PO))
    assert not po.metadata_is_fuzzy
    untranslated = [e.msgid for e in po if not e.obsolete and not e.translated()]
    assert untranslated == []
    for entry in po:
        translated = entry.msgstr or entry.msgstr_plural.get(0, "")
        source = entry.msgid_plural or entry.msgid
        assert sorted(PLACEHOLDER.findall(translated)) == sorted(PLACEHOLDER.findall(source)), entry.msgid


def test_compiled_catalogue_matches_the_source():
    po = polib.pofile(str(PO))
    with MO.open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    for entry in po:
        if entry.msgid and not entry.msgid_plural:
            found = compiled.pgettext(entry.msgctxt, entry.msgid) if entry.msgctxt else compiled.gettext(entry.msgid)
            assert found == entry.msgstr, f"stale .mo for {entry.msgid!r}: run make messages"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed")
def test_no_message_in_the_code_is_missing_from_the_catalogue(tmp_path):
    """makemessages on a copy of the catalogue must find nothing new."""
    work = tmp_path / "closeloop"
    shutil.copytree(ROOT / "closeloop", work, ignore=shutil.ignore_patterns("__pycache__", "static"))
    subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "closeloop"),
            "makemessages",
            "-l",
            "zh_Hans",
            "--no-obsolete",
            "-i",
            "migrations/*",
        ],
        cwd=work,
        check=True,
        capture_output=True,
    )
    fresh = polib.pofile(str(work / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    missing = [e.msgid for e in fresh if not e.translated()]
    assert missing == [], "run make messages and translate: " + ", ".join(missing[:10])
