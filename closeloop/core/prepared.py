"""SELECTs that every request asks, built by the ORM once per process and database (issue 20).

Building a simple look-up through the ORM — a filter, an order, `first()` — cost about a million
instructions (callgrind, ~0.2 ms) each time it ran; SQLite answers it in 0.01 ms. The session, the user,
their roles and the complaint's customer are asked on every registration, so their statements are built
here once, from the same querysets, with named placeholders where the values go (`Param`), and run on a
cursor with the values of each call. A model instance is made as the ORM makes it — the compiler's column
converters, then `Model.from_db` — with what the compiler worked out once (`Model.objects.raw` worked it
out again on every call: two thirds of the look-up, issue 20).

    CUSTOMER = Prepared(lambda: Customer.objects.filter(phone=Param("phone")).order_by("id")[:1])
    CUSTOMER.first(phone="13800000000")

A value is passed as the database takes it: a datetime through `connection.ops.adapt_datetimefield_value`
(`adapt_datetime`), as the ORM would have done.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connections, models, router
from django.db.models.expressions import RawSQL

M = TypeVar("M", bound=models.Model)
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


class Param(RawSQL):
    """Where a value of the call goes, by name."""

    def __init__(self, name: str, output_field: models.Field[Any, Any] | None = None) -> None:
        if not name.isidentifier():
            raise ValueError(f"a parameter's name must be an identifier: {name!r}")
        super().__init__(f"%({name})s", (), output_field=output_field)


@dataclass(frozen=True)
class _Statement:
    sql: str
    names: frozenset[str]
    # How a row becomes a model instance (None: the select is not exactly the model's own columns)
    attnames: list[str] | None
    converters: dict[int, tuple[list[Any], Any]]  # column → (the ORM's converters, its expression)


class Prepared(Generic[M]):
    """A queryset's statement, built on its first use on each database."""

    def __init__(self, build: Callable[[], models.QuerySet[M, Any]]) -> None:
        self._build = build
        self._model: type[M] | None = None
        self._statements: dict[str, _Statement] = {}

    def _statement(self) -> tuple[type[M], _Statement, str]:
        queryset = None
        if self._model is None:
            queryset = self._build()
            self._model = queryset.model
        model = self._model
        using = router.db_for_read(model)
        known = self._statements.get(using)
        if known is None:
            if queryset is None:
                queryset = self._build()
            compiler = queryset.query.get_compiler(using=using)
            sql, params = compiler.as_sql()
            # Everything else the ORM would have bound must be written into the statement: a value
            # bound here would be the first call's, kept for every later one.
            if params or "%" in _PLACEHOLDER.sub("", sql):
                # The values themselves are left out of the message: one may be a customer's phone number.
                raise ValueError(f"only Param() values may be bound in a prepared statement, not {len(params)}: {sql}")
            known = self._statements[using] = _Statement(
                sql, frozenset(_PLACEHOLDER.findall(sql)), *_instance_recipe(compiler, model)
            )
        return model, known, using

    def _values(self, names: frozenset[str], values: dict[str, Any]) -> dict[str, Any]:
        if set(values) != names:
            raise TypeError(f"prepared statement takes {sorted(names)}, given {sorted(values)}")
        return values

    def first(self, **values: Any) -> M | None:
        """The first model instance the statement gives for these values, or None."""
        model, statement, using = self._statement()
        params = self._values(statement.names, values)
        if statement.attnames is None:
            return next(iter(model._default_manager.db_manager(using).raw(statement.sql, params)), None)
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(statement.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        return model.from_db(using, statement.attnames, _converted(row, statement.converters, connection))

    def count(self, **values: Any) -> int:
        """How many rows the statement gives for these values (`QuerySet.count()` built its aggregate
        query anew each time: for the desk's unread badge, on every page, a tenth of the queue page)."""
        _model, statement, using = self._statement()
        with connections[using].cursor() as cursor:
            sql = f"SELECT COUNT(*) FROM ({statement.sql}) counted"  # noqa: S608  # the ORM's own statement
            cursor.execute(sql, self._values(statement.names, values))
            (number,) = cursor.fetchone()
            return int(number)

    def rows(self, **values: Any) -> list[tuple[Any, ...]]:
        """The rows as the database gives them (no field converters: for names, ids and flags)."""
        _model, statement, using = self._statement()
        with connections[using].cursor() as cursor:
            cursor.execute(statement.sql, self._values(statement.names, values))
            return cursor.fetchall()


def _instance_recipe(compiler: Any, model: type[models.Model]) -> tuple[list[str] | None, dict[int, Any]]:
    """What Django's ModelIterable works out from the compiler before the first row: the attribute of
    each selected column and the converters of each column that has any. Only for a select of the
    model's own columns (no `select_related`, no annotations, no `values()`); otherwise (None, {})."""
    info = compiler.klass_info
    if not info or info["model"] is not model or info.get("related_klass_infos") or compiler.annotation_col_map:
        return None, {}
    columns = [expression for expression, _sql, _alias in compiler.select]
    if info["select_fields"] != list(range(len(columns))):
        return None, {}
    return [column.target.attname for column in columns], compiler.get_converters(columns)


def _converted(row: Sequence[Any], converters: dict[int, tuple[list[Any], Any]], connection: Any) -> Sequence[Any]:
    """The row as `SQLCompiler.apply_converters` gives it, with this thread's connection."""
    if not converters:
        return row
    values = list(row)
    for position, (functions, expression) in converters.items():
        value = values[position]
        for function in functions:
            value = function(value, expression, connection)
        values[position] = value
    return values


def db_datetime(value: datetime.datetime, using: str = "default") -> Any:
    """A datetime as the ORM binds it on this database (SQLite: naive UTC text)."""
    return connections[using].ops.adapt_datetimefield_value(value)
