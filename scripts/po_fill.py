"""Fill the zh_Hans catalogue from {msgid: translation} JSON files (translation workflow helper).

.venv/bin/python scripts/po_fill.py closeloop/locale/zh_Hans/LC_MESSAGES/django.po part1.zh.json ...

A message with a context (pgettext) is keyed "context\u0004msgid" in the JSON, as gettext itself keys it;
a plain key never fills a message that has a context.
"""

import json
import sys

import polib


def main(po_path: str, *json_paths: str) -> None:
    translations: dict[str, str] = {}
    for path in json_paths:
        with open(path, encoding="utf-8") as fh:
            translations.update(json.load(fh))
    po = polib.pofile(po_path)
    filled = 0
    for entry in po:
        key = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid
        text = translations.get(key)
        if text is None:
            continue
        if entry.msgid_plural:
            entry.msgstr_plural = {0: text}
        else:
            entry.msgstr = text
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
        filled += 1
    po.metadata_is_fuzzy = False
    po.header = "CloseLoop (客诉闭环) — Simplified Chinese interface. English is the source language."
    po.metadata.update({"Language": "zh_Hans", "Project-Id-Version": "CloseLoop", "Language-Team": "CloseLoop"})
    po.save(po_path)
    missing = [e for e in po if not e.translated()]
    print(f"filled {filled}; untranslated left: {len(missing)}")
    for entry in missing[:20]:
        print("  missing:", f"[{entry.msgctxt}] " if entry.msgctxt else "", entry.msgid, sep="")


if __name__ == "__main__":
    main(*sys.argv[1:])
