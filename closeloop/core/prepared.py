"""SELECTs that every request asks, built by the ORM once per process and database (issue 20).

Building a simple look-up through the ORM — a filter, an order, `first()` — cost about a million
instructions (callgrind, ~0.2 ms) each time it ran; SQLite answers it in 0.01 ms. The session, the user,
their roles and the complaint's customer are asked on every registration, so their statements are built
here once, from the same querysets, with named placeholders where the values go (`Param`), and run as
raw queries with the values of each call: model instances through `Model.objects.raw` (the ORM's own
column converters), plain rows through a cursor.

    CUSTOMER = Prepared(lambda: Customer.objects.filter(phone=Param("phone")).order_by("id")[:1])
    CUSTOMER.first(phone="13800000000")

A value is passed as the database takes it: a datetime through `connection.ops.adapt_datetimefield_value`
(`adapt_datetime`), as the ORM would have done.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
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


class Prepared(Generic[M]):
    """A queryset's statement, built on its first use on each database."""

    def __init__(self, build: Callable[[], models.QuerySet[M, Any]]) -> None:
        self._build = build
        self._model: type[M] | None = None
        self._statements: dict[str, tuple[str, frozenset[str]]] = {}

    def _statement(self) -> tuple[type[M], str, frozenset[str], str]:
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
            sql, params = queryset.query.get_compiler(using=using).as_sql()
            # Everything else the ORM would have bound must be written into the statement: a value
            # bound here would be the first call's, kept for every later one.
            if params or "%" in _PLACEHOLDER.sub("", sql):
                # The values themselves are left out of the message: one may be a customer's phone number.
                raise ValueError(f"only Param() values may be bound in a prepared statement, not {len(params)}: {sql}")
            known = self._statements[using] = (sql, frozenset(_PLACEHOLDER.findall(sql)))
        return model, *known, using

    def _values(self, names: frozenset[str], values: dict[str, Any]) -> dict[str, Any]:
        if set(values) != names:
            raise TypeError(f"prepared statement takes {sorted(names)}, given {sorted(values)}")
        return values

    def first(self, **values: Any) -> M | None:
        """The first model instance the statement gives for these values, or None."""
        model, sql, names, using = self._statement()
        rows = model._default_manager.db_manager(using).raw(sql, self._values(names, values))
        return next(iter(rows), None)

    def count(self, **values: Any) -> int:
        """How many rows the statement gives for these values (`QuerySet.count()` built its aggregate
        query anew each time: for the desk's unread badge, on every page, a tenth of the queue page)."""
        _model, sql, names, using = self._statement()
        with connections[using].cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM ({sql}) counted", self._values(names, values))  # noqa: S608  # the ORM's own statement
            (number,) = cursor.fetchone()
            return int(number)

    def rows(self, **values: Any) -> list[tuple[Any, ...]]:
        """The rows as the database gives them (no field converters: for names, ids and flags)."""
        _model, sql, names, using = self._statement()
        with connections[using].cursor() as cursor:
            cursor.execute(sql, self._values(names, values))
            return cursor.fetchall()


def db_datetime(value: datetime.datetime, using: str = "default") -> Any:
    """A datetime as the ORM binds it on this database (SQLite: naive UTC text)."""
    return connections[using].ops.adapt_datetimefield_value(value)
