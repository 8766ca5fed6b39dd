"""How an article is found: one normalised text per article, compared by substring.

Chinese is written without spaces, so a search is a substring search; model numbers are written with and
without dashes ("XD-A1200", "xda1200"), so dashes, spaces and case are taken out of both the stored text
and the query.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_IGNORED = re.compile(r"[\s\-‐‑‒–—―－_·]+")


def normalise(text: str) -> str:
    return _IGNORED.sub("", text).upper()


def search_text(
    *, title: str, symptoms: str, cause: str, steps: Iterable[str], tags: Iterable[str], models: str
) -> str:
    parts = [title, symptoms, cause, *steps, *tags, models]
    return "\n".join(normalise(part) for part in parts if part)
