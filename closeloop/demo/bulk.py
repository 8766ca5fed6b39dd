"""Writing generated rows fast: plain records, ids handed out in blocks, one statement per table.

`bulk_create` spends most of its time preparing each value of each row through the field API; at tens
of rows per complaint that dominates seeding. The generator instead builds `Rec` objects (attributes
named like the model's columns), and `BulkWriter` converts them once per column type and writes them
with `executemany` on SQLite or `COPY … FROM STDIN` on PostgreSQL, inside the caller's transaction.

Rows that other rows (or events) point to get their ids before anything is written: PostgreSQL hands
out a block from the table's sequence; SQLite continues after the table's largest id (the writer runs
inside a transaction begun IMMEDIATE, which holds the database's write lock). Events and deadlines,
which nothing points to, let the database number them.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection, models

UTC = datetime.UTC


class Rec:
    """A row to write. Attributes named like the model's columns (`complaint_id`, not `complaint`);
    a foreign-key column may hold an id, a model instance or another `Rec` (its id is read when the
    row is written). Other attributes are the generator's own and are not written."""

    id: int | None = None

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)

    def __repr__(self) -> str:
        return f"Rec({self.__dict__!r})"

    if TYPE_CHECKING:  # any attribute, as the generator sets them; only for the type checker

        def __getattr__(self, name: str) -> Any: ...
        def __setattr__(self, name: str, value: Any) -> None: ...


def _pk(value: Any) -> Any:
    if value is None or value.__class__ is int:
        return value
    pk = value.id  # a Rec, or a model instance (every model here has an `id` primary key)
    if pk is None:
        raise ValueError(f"{value!r} has no id yet: write or number it first")
    return pk


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Rec | models.Model):
        return _pk(value)
    raise TypeError(f"cannot store {value!r} as JSON")


_ENCODER = json.JSONEncoder(default=_json_default, ensure_ascii=False)


def dumps(value: Any) -> str:
    if not value and value.__class__ in (dict, list):
        return "{}" if value.__class__ is dict else "[]"
    return _ENCODER.encode(value)


def _sqlite_datetime(value: datetime.datetime | None) -> str | None:
    # As Django's SQLite backend stores an aware datetime: str() of the naive UTC time.
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ")[:-6]  # without "+00:00"


def _sqlite_date(value: datetime.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _decimal_sqlite(value: Any) -> Any:
    return None if value is None else str(value)


_MISSING = object()
CHUNK = 5000  # rows converted at a time


class _Table:
    """One table's columns and a row builder generated for them: each attribute read once, converted
    only where its type needs it (a plain loop over the columns costs twice as much per row)."""

    def __init__(self, model: type[models.Model], vendor: str, with_id: bool) -> None:
        meta = model._meta
        self.name = meta.db_table
        self.columns: list[str] = []
        sqlite = vendor == "sqlite"
        namespace: dict[str, Any] = {}
        parts = []
        for index, field in enumerate(meta.concrete_fields):
            if field.primary_key and not with_id:
                continue
            if field.db_default is not models.NOT_PROVIDED:  # the database fills it (e.g. an event's txid)
                continue
            kind = field.get_internal_type()
            convert: Callable[[Any], Any] | None
            if field.is_relation:
                convert = _pk
            elif kind == "DateTimeField":
                convert = _sqlite_datetime if sqlite else None
            elif kind == "DateField":
                convert = _sqlite_date if sqlite else None
            elif kind == "JSONField":
                convert = dumps
            elif kind == "DecimalField" and sqlite:
                convert = _decimal_sqlite
            else:
                convert = None
            if field.primary_key:
                default: Any = _MISSING
            elif field.has_default() and not callable(field.default):
                default = field.get_default()
            elif field.has_default() and field.default in (dict, list):
                default = field.default()
            elif field.has_default():
                default = _MISSING  # e.g. timezone.now: the generator must give the value
            elif field.null:
                default = None
            elif field.empty_strings_allowed:
                default = ""
            else:
                default = _MISSING
            if default is not _MISSING and convert is not None:
                default = convert(default)
            namespace[f"d{index}"] = default
            namespace[f"c{index}"] = convert
            value = f"v[{field.attname!r}]" if default is _MISSING else f"v.get({field.attname!r}, d{index})"
            parts.append(f"c{index}({value})" if convert is not None else value)
            self.columns.append(field.column)
        source = f"def build(v):\n    return ({', '.join(parts)},)\n"
        exec(source, namespace)  # noqa: S102 - generated from the model's own field list
        self._build = namespace["build"]

    def rows(self, recs: Iterable[Rec]) -> list[tuple[Any, ...]]:
        build = self._build
        try:
            return [build(rec.__dict__) for rec in recs]
        except KeyError as missing:
            raise ValueError(f"{self.name}.{missing.args[0]} is required (it has no default)") from None


class BulkWriter:
    """Writes records of several tables on the default connection, in the caller's transaction."""

    def __init__(self) -> None:
        connection.ensure_connection()
        self.vendor = connection.vendor
        if self.vendor not in ("sqlite", "postgresql"):
            raise RuntimeError(f"the demo generator supports SQLite and PostgreSQL, not {self.vendor}")
        self._tables: dict[tuple[type[models.Model], bool], _Table] = {}
        self.rows_written = 0

    def _table(self, model: type[models.Model], with_id: bool) -> _Table:
        key = (model, with_id)
        if key not in self._tables:
            self._tables[key] = _Table(model, self.vendor, with_id)
        return self._tables[key]

    def number(self, model: type[models.Model], recs: Sequence[Rec]) -> None:
        """Give each record (in order) the next id of the model's table. Call inside the transaction
        that writes them."""
        if not recs:
            return
        table = model._meta.db_table
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, len(recs)]
                )
                ids = [row[0] for row in cursor.fetchall()]
            else:
                cursor.execute(f'SELECT MAX(id) FROM "{table}"')  # noqa: S608 - our own table name
                largest = cursor.fetchone()[0] or 0
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                row = cursor.fetchone()
                first = max(largest, row[0] if row else 0) + 1
                ids = list(range(first, first + len(recs)))
        for rec, pk in zip(recs, ids, strict=True):
            rec.id = pk

    def insert(self, model: type[models.Model], recs: Sequence[Rec], *, with_id: bool = True) -> None:
        """Write the records; `with_id` when they were numbered (`number`), else the database numbers them.
        Converted and sent in chunks, so that a batch's rows are never all held twice."""
        if not recs:
            return
        table = self._table(model, with_id)
        raw = connection.connection
        columns = ", ".join(f'"{c}"' for c in table.columns)
        if self.vendor == "postgresql":
            with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
                for offset in range(0, len(recs), CHUNK):
                    for row in table.rows(recs[offset : offset + CHUNK]):
                        copy.write_row(row)
        else:
            marks = ", ".join("?" for _c in table.columns)
            sql = f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})'  # noqa: S608 - our own names
            for offset in range(0, len(recs), CHUNK):
                raw.executemany(sql, table.rows(recs[offset : offset + CHUNK]))
        self.rows_written += len(recs)
