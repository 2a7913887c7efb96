"""A hot read's SQL compiled once per connection, then run with other values: the ORM's statement, not a copy of it.

Building a query in Django's ORM (cloning, resolving names to joins, compiling) costs far more
CPU than running it against an index: the live identity's work-out (``articles.live``) spent 1.1
ms of CPU building its one statement, against 0.03 ms asking PostgreSQL for its rows through the
cursor. A shared-cache miss of an article page runs that statement and one other, so building them
was most of the miss.

``CompiledValues`` keeps, per database connection and per *shape* (what changes the SQL's text:
a kind, a setting), what the ORM compiled for a ``values_list`` query built with stand-ins for the
values that only change its parameters (a slug): the SQL, the parameters with the stand-ins'
places, and the compiler's converters of the columns. A call puts its values in those places, runs
the SQL, and converts the rows as the ORM's own iterator would (``ValuesListIterable``): the same
statement, the same rows, so query budgets and plans are unchanged (``tests/test_compiled.py``
compares the rows with the ORM's for each use). A query whose stand-in does not appear exactly once
among the parameters is never kept: it is run through the ORM each time.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet
from django.db.models.sql.compiler import SQLCompiler

# Builds the query of one shape (``key``) with the given values of its parameters.
Build = Callable[..., QuerySet[Any]]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    places: dict[str, int]
    compiler: SQLCompiler
    converters: dict[int, Any]
    # Columns the compiler added past those asked for (an ordering's), cut off as ``execute_sql`` does.
    columns: int | None


class CompiledValues:
    """A ``values_list`` query of ``model`` (``build(key, **values)``), compiled once per connection and shape
    ``key``; read from the database the router gives for reading ``model``."""

    def __init__(self, model: type[models.Model], build: Build) -> None:
        self.model = model
        self.build = build
        self._compiled: weakref.WeakKeyDictionary[BaseDatabaseWrapper, dict[Hashable, _Compiled | None]] = (
            weakref.WeakKeyDictionary()
        )

    def rows(self, key: Hashable, **values: Any) -> list[tuple[Any, ...]]:
        """The rows of ``build(key, **values)``, as its ``values_list`` gives them."""
        using = router.db_for_read(self.model)
        connection = connections[using]
        kept = self._compiled.setdefault(connection, {})
        if key not in kept:
            kept[key] = self._compile(key, values, using)
        compiled = kept[key]
        if compiled is None:
            return list(self.build(key, **values).using(using))
        params = list(compiled.params)
        for name, place in compiled.places.items():
            params[place] = values[name]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows: Any = cursor.fetchall()
        if compiled.columns is not None:
            rows = [row[: compiled.columns] for row in rows]
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
        return [tuple(row) for row in rows]

    def _compile(self, key: Hashable, values: dict[str, Any], using: str) -> _Compiled | None:
        """What the ORM compiles for ``build(key, ...)``, with each value's place among the parameters; None when a
        value's stand-in is not exactly one parameter, or the query is not a plain ``values_list``."""
        stand_ins = {name: f"\x1f{name}:{id(self)}\x1f" for name in values}
        queryset = self.build(key, **stand_ins).using(using)
        if queryset._iterable_class is not models.query.ValuesListIterable:  # type: ignore[attr-defined]
            return None
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        places = {}
        for name, stand_in in stand_ins.items():
            found = [place for place, param in enumerate(params) if param == stand_in]
            if len(found) != 1:
                return None
            places[name] = found[0]
        # As ``SQLCompiler.execute_sql`` and ``results_iter`` do it (Django 5.2).
        fields = [selected[0] for selected in compiler.select[0 : compiler.col_count]]
        if compiler.has_composite_fields(fields):
            return None
        columns = compiler.col_count if compiler.has_extra_select else None
        return _Compiled(sql, tuple(params), places, compiler, compiler.get_converters(fields), columns)
