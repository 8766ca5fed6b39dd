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


_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _CELL, _VALUE, _INLINE, _TEXT, _RUN = (_NS + tag for tag in ("row", "c", "v", "is", "t", "r"))


def _column(reference: str) -> int:
    """1 for "A7", 28 for "AB7"."""
    number = 0
    for char in reference:
        if char.isdigit():
            break
        number = number * 26 + ord(char.upper()) - 64
    return number


def _xlsx_lines(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    """(row number, cell values) of the first worksheet, as openpyxl's `iter_rows(values_only=True)` of a
    workbook loaded read-only with `data_only` gives them (cached formula results, dates as datetimes).

    openpyxl still reads the workbook, its shared strings and its styles; the sheet's rows are parsed
    here. Its read-only sheet parses a sheet without a <dimension> (one written by openpyxl's own
    write-only mode, or by many exporters) twice, first to find its size, and builds a rich-text object
    for every inline string: half of a history import's time (bench/bench_import.py). A test compares
    both readers on the same workbooks (tests/imports/test_reading.py)."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet
    from openpyxl.utils.datetime import from_excel
    from openpyxl.xml.functions import iterparse  # openpyxl's own choice (defusedxml when installed)

    reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True)
    try:
        reader.read_manifest()
        reader.read_strings()
        reader.read_workbook()
        apply_stylesheet(reader.archive, reader.wb)
        workbook = reader.wb
        sheets = [
            rel.target
            for _sheet, rel in reader.parser.find_sheets()
            if rel.target in reader.valid_files and "chartsheet" not in rel.Type
        ]
        # the formats openpyxl found to be dates and durations (its read-only sheet reads the same)
        dates, spans = workbook._date_formats, workbook._timedelta_formats  # type: ignore[attr-defined]
        shared = reader.shared_strings
        number = 0
        with reader.archive.open(sheets[0]) as source:
            for _event, row in iterparse(source):
                if row.tag != _ROW:
                    continue
                number = int(row.get("r") or number + 1)
                values: list[Any] = []
                for cell in row.iter(_CELL):
                    reference = cell.get("r")
                    column = _column(reference) if reference else len(values) + 1
                    values.extend([None] * (column - 1 - len(values)))
                    values.append(_cell_value(cell, shared, dates, spans, workbook.epoch, from_excel))
                yield number, values
                row.clear()
    finally:
        reader.archive.close()


def _cell_value(cell: Any, shared: Any, dates: Any, spans: Any, epoch: Any, from_excel: Any) -> Any:
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        inline = cell.find(_INLINE)
        if inline is None:
            return None
        # The text and the rich-text runs; not the phonetic guides (<rPh>).
        return "".join(
            (part.text or "") if part.tag == _TEXT else (part.findtext(_TEXT) or "")
            for part in inline
            if part.tag in (_TEXT, _RUN)
        )
    value = cell.findtext(_VALUE) or None
    if value is None:
        return None
    if kind == "n":
        number = float(value) if "." in value or "E" in value or "e" in value else int(value)
        style = int(cell.get("s") or 0)
        if style and style in dates:
            try:
                return from_excel(number, epoch, timedelta=style in spans)
            except (OverflowError, ValueError):
                return "#VALUE!"
        return number
    if kind == "s":
        return shared[int(value)]
    if kind == "b":
        return bool(int(value))
    if kind == "d":
        from openpyxl.utils.datetime import from_ISO8601

        return from_ISO8601(value)
    return value  # "str" (a formula's text) and "e" (an error such as #N/A), as written


def read_table(*, data: bytes, file_name: str) -> tuple[list[str], list[SourceRow]]:
    """(headers, rows) of the first sheet of an .xlsx file or of a .csv file."""
    suffix = Path(file_name).suffix.lower()
    if suffix == ".csv":
        reader = csv.reader(io.StringIO(_decode(data), newline=""))
        return _rows((reader.line_num, row) for row in reader)
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            return _rows(_xlsx_lines(data))
        except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError, IndexError):
            raise DomainError(_("The file is not a readable .xlsx workbook."), field="file") from None
    raise DomainError(_("Import an .xlsx or a .csv file."), field="file")
