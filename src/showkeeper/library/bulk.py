"""Bulk writes: executemany without per-row parameter processing, and upserts.

SQLAlchemy's executemany runs every parameter of every row through its type's bind processor
in Python (timestamps, JSON, booleans), which costs more than SQLite's own insert. Here the
statement is compiled once, the parameters that are the same for every row are processed
once, and the rows go to the driver's executemany as plain tuples.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Insert


async def executemany(session: AsyncSession, stmt: Insert, rows: Sequence[dict[str, Any]]) -> None:
    """Execute ``stmt`` once per row.

    Parameters named in ``rows`` MUST already be storable as they are (int, str, None): they
    skip type processing. Every other parameter of ``stmt`` is a constant with a value
    (``bindparam(name, value)``), processed once.
    """
    if not rows:
        return
    conn = await session.connection()
    dialect = conn.dialect
    compiled: SQLCompiler = stmt.compile(dialect=dialect)
    order = compiled.positiontup
    if not order:  # a named-parameter driver: let SQLAlchemy bind (never the case for ours)
        await session.execute(stmt, list(rows))
        return
    per_row = set(rows[0])
    constants: dict[str, Any] = {}
    for name in order:
        if name in per_row:
            continue
        bind = compiled.binds[name]
        processor = bind.type.bind_processor(dialect)
        value = bind.effective_value
        constants[name] = processor(value) if processor else value
    getter = itemgetter(*order)
    if len(order) == 1:
        params: list[Any] = [(row[order[0]],) for row in rows]
    elif constants:
        params = [getter(row | constants) for row in rows]
    else:
        params = [getter(row) for row in rows]
    await conn.exec_driver_sql(compiled.string, params)


def insert_for(session: AsyncSession, table: Table) -> Any:
    """INSERT with ON CONFLICT support (``on_conflict_do_*``) for the session's backend."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
