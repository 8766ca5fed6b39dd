"""The columns of the history import: the summary table's (投诉汇总表, insight/exports) where they carry
something a complaint keeps, plus the contact, reason and follow-up columns a history needs.

A file may use the Chinese headers of the template, the English ones, or the keys (`received_at`);
the summary table's other columns (handlers, measures, deadlines…) are recognised and skipped, so an
exported summary table can be read back. Any other header is an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from closeloop.insight.exports.labels import WORDS


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    required: bool = False


def _summary(key: str, *, required: bool = False) -> Column:
    zh, en = WORDS[key]
    return Column(key, zh, en, required)


COLUMNS: tuple[Column, ...] = (
    _summary("number"),
    _summary("received_at", required=True),
    _summary("resolved_at"),
    _summary("closed_at"),
    _summary("channel"),
    _summary("customer_kind"),
    _summary("customer_name", required=True),
    _summary("customer_phone"),
    Column("customer_email", "电子邮箱", "E-mail"),
    _summary("province"),
    _summary("city"),
    _summary("product"),
    _summary("batch"),
    _summary("type", required=True),
    _summary("priority"),
    _summary("department"),
    _summary("status", required=True),
    _summary("description", required=True),
    _summary("result"),
    Column("followup_outcome", "回访结果", "Follow-up outcome"),
    _summary("satisfaction"),
    Column("followup_at", "回访时间", "Followed up"),
)
BY_KEY = {column.key: column for column in COLUMNS}

# In the summary table but nothing an imported complaint keeps (it has no tasks, measures or clocks).
SKIPPED = (
    "registered_at",
    "product_line",
    "handlers",
    "measures",
    "compensation_amount",
    "compensation_form",
    "repeat",
    "reopen_count",
    "deadline_ack",
    "deadline_resolution",
    "deadline_followup",
)


def normalise_header(text: str) -> str:
    """Compare headers without case, spaces and the difference between full- and half-width brackets."""
    text = str(text).strip().lower().replace("（", "(").replace("）", ")")
    return re.sub(r"\s+", "", text)


def _header_index() -> dict[str, str | None]:
    index: dict[str, str | None] = {}
    for column in COLUMNS:
        for name in (column.key, column.zh, column.en):
            index[normalise_header(name)] = column.key
    for key in SKIPPED:
        for name in (key, *WORDS[key]):
            index[normalise_header(name)] = None
    return index


HEADERS = _header_index()


def column_for(header: str) -> str | None:
    """The column key a header names; None for a skipped summary column. KeyError when unknown."""
    return HEADERS[normalise_header(header)]
