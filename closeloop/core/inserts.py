"""Bulk inserts: multi-row `INSERT … RETURNING id`, one statement per batch. Used by the history import
(issue 10) and by intake for its customer, complaint and clocks (issue 20).

Django's bulk_create prepares every value through the generic field machinery (and caps a SQLite
statement at 999 parameters): for the import's 40-column rows that was most of the time spent, and for
intake's three clocks it cost 0.15–0.28 ms of CPU more than this. Here each
column's conversion is chosen once per model and the values are passed as they are for the plain types;
what bulk_create also skips (save(), signals) is skipped alike. Both PostgreSQL and SQLite (≥ 3.35)
return the new ids in the order of the VALUES, as bulk_create relies on too.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, models
from django.db.models.expressions import DatabaseDefault
from django.db.models.fields import NOT_PROVIDED
from django.utils import timezone

# Below SQLite's 32,766 variables and PostgreSQL's 65,535 parameters a statement.
MAX_PARAMS = 30_000
MAX_ROWS = 2_000
PLAIN = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.ForeignKey,
)


def _converter(field: models.Field[Any, Any]) -> Callable[[Any], Any]:
    """A column's conversion, kept in the model's recipe: the connection is asked at each call (the
    recipe serves every thread), its time zone once (UTC, from the settings, the same for all)."""
    if isinstance(field, models.DateTimeField):
        if connection.vendor == "sqlite" and connection.timezone is not None:
            # What ops.adapt_datetimefield_value writes (naive in the connection's zone), without its
            # per-value settings look-ups.
            zone = connection.timezone
            return lambda value: None if value is None else str(value.astimezone(zone).replace(tzinfo=None))
        return lambda value: None if value is None else connection.ops.adapt_datetimefield_value(value)
    if isinstance(field, models.DateField):
        return lambda value: None if value is None else connection.ops.adapt_datefield_value(value)
    if isinstance(field, PLAIN):
        return lambda value: value
    return lambda value: field.get_db_prep_save(value, connection)


@dataclass(frozen=True)
class _RowsRecipe:
    columns_read: list[tuple[str, Callable[[Any], Any]]]  # (attname, its conversion) per column written
    stamped: list[str]  # auto_now(_add): set to the time of the call
    columns: str
    row_sql: str
    batch: int
    table: str
    pk_column: str


_recipes: dict[tuple[type[models.Model], str, frozenset[str]], _RowsRecipe] = {}


def _rows_recipe(model: type[models.Model], left_to_database: frozenset[str]) -> _RowsRecipe:
    """The fields, conversions and SQL pieces of a model's insert, worked out once per process: for one
    intake's complaint (40 columns) working them out each time cost more than the ORM's save() (issue 20)."""
    key = (model, connection.alias, left_to_database)
    recipe = _recipes.get(key)
    if recipe is None:
        meta = model._meta
        fields = [f for f in meta.concrete_fields if not f.primary_key and f.attname not in left_to_database]
        quote = connection.ops.quote_name
        recipe = _recipes[key] = _RowsRecipe(
            columns_read=[(f.attname, _converter(f)) for f in fields],
            stamped=[f.attname for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)],
            columns=", ".join(quote(f.column) for f in fields),
            row_sql="(" + ", ".join(["%s"] * len(fields)) + ")",
            batch=max(1, min(MAX_PARAMS // len(fields), MAX_ROWS)),
            table=quote(meta.db_table),
            pk_column=quote(meta.pk.column),
        )
    return recipe


@functools.cache
def _with_db_default(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(f.attname for f in model._meta.concrete_fields if f.db_default is not NOT_PROVIDED)


def insert_rows(objs: Sequence[models.Model]) -> None:
    """Insert unsaved instances of one model and set their primary keys."""
    if not objs:
        return
    model = type(objs[0])
    # A column with a database default (Event.txid) the instances leave unset is left to the database.
    first = objs[0]
    left = frozenset(name for name in _with_db_default(model) if isinstance(getattr(first, name), DatabaseDefault))
    recipe = _rows_recipe(model, left)
    now = timezone.now()
    with connection.cursor() as cursor:
        for start in range(0, len(objs), recipe.batch):
            chunk = objs[start : start + recipe.batch]
            params: list[Any] = []
            for obj in chunk:
                for attname in recipe.stamped:
                    setattr(obj, attname, now)
                params.extend([convert(getattr(obj, attname)) for attname, convert in recipe.columns_read])
            sql = (
                f"INSERT INTO {recipe.table} ({recipe.columns}) VALUES {', '.join([recipe.row_sql] * len(chunk))} "  # noqa: S608
                f"RETURNING {recipe.pk_column}"
            )
            cursor.execute(sql, params)
            for obj, (pk,) in zip(chunk, cursor.fetchall(), strict=True):
                obj.pk = pk
                obj._state.adding = False
                obj._state.db = connection.alias


def _constant(value: Any) -> Callable[[], Any]:
    return lambda: value


def insert_values(model: type[models.Model], rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert rows given as {attname: value} (`customer_id`, not `customer`) and return their new ids,
    in order. No model instance is built: for the history import that was a third of the writing
    (Model.__init__ with its descriptors and defaults, per row). A column a row leaves out gets the
    field's default — a callable one called per row —, `auto_now(_add)` the time of the call, and a
    column with a database default is left to the database."""
    if not rows:
        return []
    meta = model._meta
    given = set().union(*(row.keys() for row in rows))
    now = timezone.now()
    fields: list[models.Field[Any, Any]] = []
    fillers: list[Callable[[], Any]] = []
    for f in meta.concrete_fields:
        if f.primary_key or (f.attname not in given and f.db_default is not NOT_PROVIDED):
            continue
        fields.append(f)
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            fillers.append(_constant(now))
        elif callable(f.default):
            fillers.append(f.get_default)
        else:
            fillers.append(_constant(f.get_default()))
    converters = [_converter(f) for f in fields]
    attnames = [f.attname for f in fields]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    batch = max(1, min(MAX_PARAMS // len(fields), MAX_ROWS))
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            params: list[Any] = []
            for row in chunk:
                for attname, convert, fill in zip(attnames, converters, fillers, strict=True):
                    params.append(convert(row[attname] if attname in row else fill()))
            sql = (
                f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {', '.join([row_sql] * len(chunk))} "  # noqa: S608
                f"RETURNING {quote(meta.pk.column)}"
            )
            cursor.execute(sql, params)
            ids.extend(pk for (pk,) in cursor.fetchall())
    return ids
