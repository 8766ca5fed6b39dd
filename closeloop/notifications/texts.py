"""A staff notice in its reader's language (issue 17).

A notice is stored as message ids and parameters (`Notification.subject_key`, `body_key`, `params`) and
turned into words when someone reads it, in the language they read in: the inbox, the badge and the API
render it with the request's language. A parameter is a plain value (a number, a date already written
out), a word of the catalogue (`word(...)`: "resolution", a milestone, a status) or a bilingual name
(`bilingual(...)`: a department, whose rows carry both). Rows written before this — subject and body in
the installation's language — are shown as they were written.

The e-mail, WeCom and robot copies go out at once, in the installation's language (`in_language`): one
text per delivery, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext, pgettext

# A parameter as stored: a plain value, {"msgid": …, "context": …} or {"zh-hans": …, "en": …}.
Param = str | int | float | dict[str, str]


def message_id(text: str | Promise) -> tuple[str, str]:
    """(msgid, context) of a lazy translation (`gettext_lazy("…")`, `pgettext_lazy("ctx", "…")`); a plain
    string is its own msgid. Django's lazy proxy keeps the arguments it was made with."""
    if isinstance(text, Promise):
        args: list[object] = list(getattr(text, "_args", ()))
        if len(args) == 1 and isinstance(args[0], str):
            return args[0], ""
        if len(args) == 2 and isinstance(args[0], str) and isinstance(args[1], str):
            return args[1], args[0]
        return str(text), ""  # not one we can name: its text in the language active now
    return str(text), ""


def word(text: str | Promise) -> dict[str, str]:
    """A parameter translated when shown (a milestone's name, a status)."""
    msgid, context = message_id(text)
    return {"msgid": msgid, "context": context} if context else {"msgid": msgid}


def bilingual(zh: str, en: str) -> dict[str, str]:
    """A parameter that has its own words in each language (a department's name and name_en)."""
    return {"zh-hans": zh, "en": en or zh}


def each_language(make: Callable[[], str]) -> dict[str, str]:
    """A parameter written out in each language of the desk (a list of measures' names)."""
    out = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            out[language] = make()
    return out


def key_of(text: str | Promise) -> str:
    """What `subject_key`/`body_key` store: the msgid, prefixed with its context and \\x04 when it has one
    (gettext's own way of keying a message with a context)."""
    msgid, context = message_id(text)
    return f"{context}\x04{msgid}" if context else msgid


def _translate(key: str) -> str:
    if "\x04" in key:
        context, msgid = key.split("\x04", 1)
        return pgettext(context, msgid)
    return gettext(key)


def _param(value: Any) -> Any:
    if isinstance(value, dict):
        if "msgid" in value:
            return pgettext(value["context"], value["msgid"]) if value.get("context") else gettext(value["msgid"])
        language = translation.get_language() or "zh-hans"
        return value.get("en" if language.startswith("en") else "zh-hans") or next(iter(value.values()), "")
    return value


def render(key: str, params: Mapping[str, Any]) -> str:
    """The message `key` with its parameters, in the active language; a parameter missing from an old row
    (or a catalogue that changed) never makes a notice unreadable: the untranslated text is shown."""
    shown = {name: _param(value) for name, value in params.items()}
    text = _translate(key)
    try:
        return text % shown if shown else text
    except (KeyError, TypeError, ValueError):
        try:
            return key.split("\x04")[-1] % shown
        except (KeyError, TypeError, ValueError):
            return key.split("\x04")[-1]


def in_language(language: str, key: str, params: Mapping[str, Any]) -> str:
    with translation.override(language):
        return render(key, params)


def stored(params: Mapping[str, Any]) -> dict[str, Param]:
    """The parameters as they are stored (JSON): lazy words become `word(...)`, anything else its text."""
    out: dict[str, Param] = {}
    for name, value in params.items():
        if isinstance(value, Promise):
            out[name] = word(value)
        elif isinstance(value, dict | int | float):
            out[name] = value
        else:
            out[name] = str(value)
    return out
