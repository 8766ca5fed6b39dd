"""Rows out of a spreadsheet: .xlsx (openpyxl, read-only) or .csv in UTF-8 (with or without BOM) or
GB18030 (what Excel on a Chinese Windows writes). The first non-empty row holds the headers."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from closeloop.core.errors import DomainError

# (row number as the spreadsheet shows it, {header as written: value})
SourceRow = tuple[int, dict[str, Any]]


def _blank(values: tuple[Any, ...] | list[Any]) -> bool:
    return all(value is None or (isinstance(value, str) and not value.strip()) for value in values)


def _rows(lines: Iterator[tuple[int, list[Any] | tuple[Any, ...]]]) -> tuple[list[str], list[SourceRow]]:
    headers: list[str] = []
    rows: list[SourceRow] = []
    for number, values in lines:
        if _blank(values):
            continue
        if not headers:
            headers = ["" if value is None else str(value).strip() for value in values]
            continue
        rows.append((number, {h: v for h, v in zip(headers, values, strict=False) if h}))
    return headers, rows


def _decode(data: bytes) -> str:
    # UTF-8 first (a BOM is dropped); text that is not UTF-8 is read as GB18030, a superset of GBK/GB2312.
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise DomainError(_("The CSV file is neither UTF-8 nor GB18030 text."), field="file") from None


def read_table(*, data: bytes, file_name: str) -> tuple[list[str], list[SourceRow]]:
    """(headers, rows) of the first sheet of an .xlsx file or of a .csv file."""
    suffix = Path(file_name).suffix.lower()
    if suffix == ".csv":
        reader = csv.reader(io.StringIO(_decode(data), newline=""))
        return _rows((reader.line_num, row) for row in reader)
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError):
            raise DomainError(_("The file is not a readable .xlsx workbook."), field="file") from None
        try:
            sheet = workbook.worksheets[0]
            return _rows(enumerate(sheet.iter_rows(values_only=True), start=1))
        finally:
            workbook.close()
    raise DomainError(_("Import an .xlsx or a .csv file."), field="file")
