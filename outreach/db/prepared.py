"""Core statements compiled once and run on the DBAPI cursor of a SQLAlchemy connection.

The dispatcher's claim and result writes are the only statements run once per post. Through
`Connection.execute` each costs ~150 µs of SQLAlchemy's execution machinery before SQLite does its
~20 µs of work; measured over a claim and a result write, 0.29–0.36 ms of CPU per post, 0.20–0.24 ms
through `Prepared`, 0.09 ms for the bare SQL on the cursor — and a worker's background writes hold
the interpreter lock that its publishing thread is waiting for. `Prepared` keeps SQLAlchemy for what
it is good at (building the SQL for either dialect, converting values with the columns' own types)
and skips the rest: it runs inside the caller's transaction, on the connection SQLAlchemy checked out.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

Processor = Callable[[Any], Any] | None


class Prepared:
    """One statement for one dialect: `run` executes it once, `run_many` once per parameter set,
    `rows` returns a SELECT's rows (named tuples, values converted as SQLAlchemy would)."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if compiled.escaped_bind_names:
            raise ValueError("bind names that need escaping are not supported here")
        if getattr(compiled, "update_prefetch", None) or getattr(compiled, "insert_prefetch", None):
            # Python-side column defaults (`onupdate=`) are computed by SQLAlchemy's execution, which
            # this skips: the statement must name those columns itself.
            columns = [c.key for c in (*compiled.update_prefetch, *compiled.insert_prefetch)]
            raise ValueError(f"give {', '.join(columns)} explicitly in the statement")
        self.sql = compiled.string
        binds = {name: bind for bind, name in compiled.bind_names.items()}
        self._order: Sequence[str] | None = compiled.positiontup if compiled.positional else None
        names = self._order if self._order is not None else list(binds)
        self._fixed = {n: binds[n].effective_value for n in names if not binds[n].required}
        self._convert: dict[str, Processor] = {
            n: binds[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names}
        self._dialect = dialect
        self._columns = None
        self._row: Any = None
        self._readers: dict[tuple[Any, ...], list[Processor]] = {}  # per the driver's column type codes
        if getattr(statement, "is_select", False):
            self._columns = [c.type.dialect_impl(dialect) for c in statement.selected_columns]  # type: ignore[attr-defined]
            self._row = namedtuple("Row", [c.key for c in statement.selected_columns])  # type: ignore[attr-defined]

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        """The driver's parameters: the statement's own values, then these, converted by type."""
        given = {**self._fixed, **values}
        out = {}
        for name, convert in self._convert.items():
            try:
                value = given[name]
            except KeyError:
                raise ValueError(f"no value for bind parameter {name!r}") from None
            out[name] = value if convert is None or value is None else convert(value)
        return [out[n] for n in self._order] if self._order is not None else out

    def run(self, conn: Connection, values: Mapping[str, Any] | None = None) -> int:
        """Execute once; the number of rows it changed."""
        cursor = conn.connection.cursor()
        try:
            cursor.execute(self.sql, self.parameters(values or {}))
            return cursor.rowcount
        finally:
            cursor.close()

    def run_many(self, conn: Connection, values: Iterable[Mapping[str, Any]]) -> None:
        params = [self.parameters(v) for v in values]
        if not params:
            return
        cursor = conn.connection.cursor()
        try:
            cursor.executemany(self.sql, params)
        finally:
            cursor.close()

    def rows(self, conn: Connection, values: Mapping[str, Any] | None = None) -> list[Any]:
        if self._columns is None:
            raise TypeError("rows() is for SELECT statements")
        cursor = conn.connection.cursor()
        try:
            cursor.execute(self.sql, self.parameters(values or {}))
            found = cursor.fetchall()
            description = cursor.description
        finally:
            cursor.close()
        codes = tuple(d[1] for d in description)
        convert = self._readers.get(codes)
        if convert is None:
            convert = self._readers[codes] = [t.result_processor(self._dialect, code)
                                              for t, code in zip(self._columns, codes, strict=True)]
        return [self._row(*(c(v) if c is not None else v for c, v in zip(convert, row, strict=True)))
                for row in found]
