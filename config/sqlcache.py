"""Querysets compiled once per process and run again with new values.

Django builds and compiles a queryset's SQL anew on every evaluation: for the reads every API
request makes (the token, the visibility check, a release's details) that cost ~0.3-1 ms a
query, several times what PostgreSQL takes to answer (make bench). A `Prepared` query is
still written with the ORM, by the same selectors and permission helpers as everywhere else
(the rules stay written once); it is built and compiled once per process with marker values
in place of its parameters, and then run through a cursor with the real values, its rows
turned into model instances by Django's own converters and `Model.from_db`.

    visible = Prepared(lambda key, user_id, pk: releases_visible_to(User(pk=user_id), ...).filter(pk=pk), arity=2)
    release = visible.first(key, user.pk, pk)

`key` (given to the builder too) names the shape of the query when it branches on something
that is not a parameter (a superuser sees every release: another query). `forget()` drops every compiled
query (after migrate: a builder may read ids of rows it makes, such as permission ids).

`field__any=ids` (registered below) is `field = ANY(%s)` with the list as one parameter, so a
query for a page of rows is compiled once for any number of rows.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Field, ForeignObject, IntegerField, Lookup, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.query import get_related_populators  # type: ignore[attr-defined]

_ALL: list[Prepared] = []
# The name under which a counted page's rows carry the count of all rows (config.sqlcache).
TOTAL = "sqlcache_total"
# Marker parameters: values no real query is given (negative ids, a text no token matches).
_MARKER_BASE = -(2**62)


@ForeignObject.register_lookup
@Field.register_lookup
class AnyOf(Lookup):
    """`field__any=[...]`: `field = ANY(%s)`, the list passed as one array parameter."""

    lookup_name = "any"
    prepare_rhs = False

    def get_db_prep_lookup(self, value: Any, connection: Any) -> tuple[str, list[Any]]:
        return "%s", [value if isinstance(value, Marker) else list(value)]

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        rhs_params = list(rhs_params)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]
        values: list[Any] = rhs_params[0]  # type: ignore[assignment]  # elsewhere (SQLite: `make run`), IN with each value
        if not values:
            raise EmptyResultSet
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]


class Marker(int):
    """An int parameter (an id) standing for the n-th value of a prepared query."""


def markers(count: int) -> list[Marker]:
    return [Marker(_MARKER_BASE - n) for n in range(count)]


class _Compiled:
    def __init__(self, queryset: QuerySet[Any], values: Sequence[Any], *, shape: str = "rows") -> None:
        self.db = queryset.db
        self.shape = shape
        if shape == "count":
            queryset = queryset.order_by().values("pk")
        elif shape == "counted":
            # The page with the count of all its rows in each row: one statement, one round trip
            # (an uncorrelated subquery: PostgreSQL counts once, and the page still reads only
            # its rows).
            count_sql, count_params = queryset.order_by().values("pk").query.sql_with_params()
            total = RawSQL(f"SELECT COUNT(*) FROM ({count_sql}) AS counted", count_params, IntegerField())
            queryset = queryset.annotate(**{TOTAL: total})
        self.compiler = queryset.query.get_compiler(using=self.db)
        self.sql, params = self.compiler.as_sql()
        if shape == "count":
            self.sql = f"SELECT COUNT(*) FROM ({self.sql}) AS counted"
        elif shape in ("page", "counted"):
            self.sql = f"{self.sql} LIMIT %s OFFSET %s"
            params = (*params, *values[-2:])
            values = values[:-2]
        # Where each marker went: the position of the value that replaces each parameter.
        where: list[int | None] = []
        for param in params:
            text = str(param) if isinstance(param, int | str) else None  # the ORM may make a marker a str
            found = [n for n, value in enumerate(values) if text == str(value)]
            where.append(found[0] if found else None)
        if shape in ("page", "counted"):
            where[-2:] = [len(values), len(values) + 1]  # the limit and offset, after the values
        self.params = params
        self.where = where
        self.is_values = shape == "count" or queryset._iterable_class.__name__ != "ModelIterable"
        if not self.is_values:
            compiler = self.compiler
            start, end = compiler.klass_info["select_fields"][0], compiler.klass_info["select_fields"][-1] + 1
            self.model = compiler.klass_info["model"]
            self.span = (start, end)
            self.init_list = [f[0].target.attname for f in compiler.select[start:end]]
            self.populators = get_related_populators(compiler.klass_info, compiler.select, self.db)
            self.annotations = list(compiler.annotation_col_map.items())

    def bind(self, values: Sequence[Any]) -> list[Any]:
        return [value if n is None else values[n] for value, n in zip(self.params, self.where, strict=True)]

    def convert(self, fetched: list[Any]) -> list[Any]:
        if self.shape == "count" or not fetched:
            return fetched
        return list(self.compiler.results_iter([fetched]))

    def rows(self, values: Sequence[Any]) -> list[Any]:
        with connections[self.db].cursor() as cursor:
            cursor.execute(self.sql, self.bind(values))
            fetched = cursor.fetchall()
        return self.convert(fetched)

    def objects(self, values: Sequence[Any], rows: list[Any] | None = None) -> list[Any]:
        rows = self.rows(values) if rows is None else self.convert(rows)
        if self.is_values:
            return rows
        start, end = self.span
        out = []
        for row in rows:
            obj = self.model.from_db(self.db, self.init_list, row[start:end])
            for populator in self.populators:
                populator.populate(row, obj)
            for name, position in self.annotations:
                setattr(obj, name, row[position])
            out.append(obj)
        return out


class Prepared:
    """A queryset built by `build(*markers)`, compiled once per `key`, run with new values.
    Model querysets give instances; `.values_list()` ones give tuples (Django's converters
    applied either way)."""

    def __init__(self, build: Callable[..., QuerySet[Any]], *, arity: int) -> None:
        self.build = build
        self.arity = arity
        self.compiled: dict[Hashable, _Compiled] = {}
        _ALL.append(self)

    def _get(self, key: Hashable, shape: str = "rows") -> _Compiled:
        compiled = self.compiled.get((key, shape))
        if compiled is None:
            values = markers(self.arity + (2 if shape in ("page", "counted") else 0))
            built = self.build(key, *values[: self.arity])
            compiled = self.compiled[key, shape] = _Compiled(built, values, shape=shape)
        return compiled

    def _compiles(self) -> bool:
        """Compiled once on PostgreSQL; elsewhere (SQLite: `make run`) the ORM runs the query."""
        return bool(connections["default"].vendor == "postgresql")

    def all(self, key: Hashable, *values: Any) -> list[Any]:
        assert len(values) == self.arity
        if not self._compiles():
            return list(self.build(key, *values))
        return self._get(key).objects(values)

    def count(self, key: Hashable, *values: Any) -> int:
        """How many rows the (unsliced) query gives."""
        assert len(values) == self.arity
        if not self._compiles():
            return int(self.build(key, *values).count())
        return int(self._get(key, "count").rows(values)[0][0])

    def page(self, key: Hashable, *values: Any, limit: int, offset: int) -> list[Any]:
        """`limit` rows of the (unsliced, ordered) query from `offset`."""
        assert len(values) == self.arity
        if not self._compiles():
            return list(self.build(key, *values)[offset : offset + limit])
        return self._get(key, "page").objects((*values, limit, offset))

    def counted_page(self, key: Hashable, *values: Any, limit: int, offset: int) -> tuple[list[Any], int | None]:
        """`page()` and `count()` in one statement: the rows and how many there are in all
        (None when the page is empty: no row carries the count)."""
        assert len(values) == self.arity
        if not self._compiles():
            return self.page(key, *values, limit=limit, offset=offset), self.count(key, *values)
        found = self._get(key, "counted").objects((*values, limit, offset))
        return found, getattr(found[0], TOTAL) if found else None

    def first(self, key: Hashable, *values: Any) -> Any:
        found = self.all(key, *values)
        return found[0] if found else None


def countable(queryset: QuerySet[Any]) -> bool:
    """Whether counted_page can read this queryset's rows: model rows, ordered by columns
    (not by annotations), no DISTINCT, GROUP BY, set operation or slice."""
    query = queryset.query
    order = [str(name).lstrip("-") for name in (query.order_by or ())]
    return (
        queryset._iterable_class.__name__ == "ModelIterable"
        and queryset.ordered
        and not query.distinct
        and not query.combinator
        and query.group_by is None
        and not query.is_sliced
        and not any(name in query.annotations for name in order)
    )


def counted_page(queryset: QuerySet[Any], *, limit: int, offset: int) -> tuple[list[Any], int | None]:
    """A page of an ORM queryset with the count of all its rows, in one statement. The page's
    ids are found first by the narrow query (its filters and order, no joins for what the
    rows show) and only those rows are read whole: the cost of a page stays that of its
    rows, not of the list's length (a whole 2,000-item checklist page by page, make bench).
    None for the count of an empty page (no row carries it)."""
    assert countable(queryset)
    narrow = queryset.values("pk")
    count_sql, count_params = narrow.order_by().query.sql_with_params()
    total = RawSQL(f"SELECT COUNT(*) FROM ({count_sql}) AS counted", count_params, IntegerField())
    page = queryset.filter(pk__in=narrow[offset : offset + limit]).annotate(**{TOTAL: total})
    found = list(page)
    return found, getattr(found[0], TOTAL) if found else None


def together(*reads: tuple[Prepared, Hashable, Sequence[Any]]) -> list[list[Any]]:
    """`prepared.all(key, *values)` of each read, sent to PostgreSQL as one batch of statements
    (one round trip instead of one each)."""
    for prepared, _key, values in reads:
        assert len(values) == prepared.arity
    server_binding = connections["default"].settings_dict.get("OPTIONS", {}).get("server_side_binding")
    if not reads or not reads[0][0]._compiles() or server_binding:
        # Several statements with parameters in one execute need client-side binding
        # (Django's default on psycopg 3).
        return [prepared.all(key, *values) for prepared, key, values in reads]
    compiled = [prepared._get(key) for prepared, key, _values in reads]
    sql = ";\n".join(c.sql for c in compiled)
    params = [param for c, (_p, _k, values) in zip(compiled, reads, strict=True) for param in c.bind(values)]
    fetched: list[list[Any]] = []
    with connections[compiled[0].db].cursor() as cursor:
        cursor.execute(sql, params)
        fetched.append(cursor.fetchall())
        while cursor.nextset():
            fetched.append(cursor.fetchall())
    assert len(fetched) == len(compiled)
    return [c.objects((), rows) for c, rows in zip(compiled, fetched, strict=True)]


def forget(**kwargs: Any) -> None:
    """Drop every compiled query (connected to post_migrate)."""
    for prepared in _ALL:
        prepared.compiled.clear()


class PreparedRows:
    """The rows of a prepared query as Django's Paginator reads a queryset (its count and
    slices): a list view's page in two compiled queries."""

    ordered = True

    def __init__(self, prepared: Prepared, key: Hashable, *values: Any) -> None:
        self.prepared, self.key, self.values = prepared, key, values

    def count(self) -> int:
        return self.prepared.count(self.key, *self.values)

    def __len__(self) -> int:
        return self.count()

    def counted_page(self, *, limit: int, offset: int) -> tuple[list[Any], int | None]:
        return self.prepared.counted_page(self.key, *self.values, limit=limit, offset=offset)

    def __getitem__(self, rows: slice) -> list[Any]:
        assert isinstance(rows, slice)
        assert rows.step is None
        assert rows.stop is not None
        start = rows.start or 0
        return self.prepared.page(self.key, *self.values, limit=rows.stop - start, offset=start)


def id_value(field: Field, value: Any) -> int | None:
    """`value` as the integer the column holds (ValueError as the ORM's lookup raises it), or
    None past the column's range (where the ORM's lookup finds nothing instead of failing)."""
    number = field.get_prep_value(value)
    low, high = connections["default"].ops.integer_field_range(field.get_internal_type())
    return number if (low is None or number >= low) and (high is None or number <= high) else None
