"""Checking a state store and copying one profile's state to another store (file or
PostgreSQL), verified row by row. Tables are discovered, not listed, so a table a new
migration adds is checked and copied without changes here; the columns holding JSON are
named next to the migrations (schema.JSON_COLUMNS), and every cell of them is decoded."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from functools import lru_cache
from typing import Any

from deskctl.errors import RuleViolation
from deskctl.sqlitefile import StoreError
from deskctl.state.database import iter_rows
from deskctl.state.schema import JSON_COLUMNS, MIGRATIONS, SCHEMA_VERSION
from deskctl.state.store import StateStore

BATCH = 1000
SHOWN = 5  # rows named per column holding bad JSON; the rest are counted


@lru_cache(maxsize=1)
def _expected() -> dict[str, list[tuple[str, int]]]:
    """{table: [(column, position in the primary key or 0)]} that MIGRATIONS produce,
    read from a scratch in-memory database."""
    conn = sqlite3.connect(":memory:")
    for migration in MIGRATIONS:
        conn.executescript(migration)
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                        "AND name NOT LIKE 'sqlite_%'")]
    return {n: [(c[1], c[5]) for c in conn.execute(f'PRAGMA table_info("{n}")')]
            for n in names}


def expected_tables() -> dict[str, list[str]]:
    """{table: columns} that MIGRATIONS produce."""
    return {t: [c for c, _ in columns] for t, columns in _expected().items()}


def primary_key(table: str) -> list[str]:
    return [c for c, pos in sorted(_expected()[table], key=lambda c: c[1]) if pos]


def counts(store: StateStore) -> dict[str, int]:
    return {t: int(store.conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0])
            for t in store.db.tables()}


def digest(store: StateStore, table: str, columns: list[str]) -> str:
    """A hash of the table's rows in a stable order, comparable across databases."""
    lines = sorted(json.dumps(list(row), default=str) for row in iter_rows(store.db, table,
                                                                          columns))
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def check(store: StateStore) -> dict[str, Any]:
    """Schema version, rows per table, and every problem found (empty when sound)."""
    report: dict[str, Any] = {"location": store.location, "database": store.db.kind,
                              "schema_version": None, "expected_version": SCHEMA_VERSION,
                              "tables": {}, "problems": []}
    problems: list[str] = report["problems"]
    if not store.db.exists():
        problems.append(f"no state at {store.location} (nothing recorded yet, or a wrong path)")
        return report
    try:
        report["schema_version"] = store.schema_version
        problems.extend(store.db.integrity())
        report["tables"] = counts(store)
        for table, columns in expected_tables().items():
            if table not in report["tables"]:
                problems.append(f"table {table} is missing")
                continue
            missing = sorted(set(columns) - set(store.db.columns(table)))
            if missing:
                problems.append(f"table {table} lacks columns {', '.join(missing)}")
        for table, json_columns in JSON_COLUMNS.items():
            if table in report["tables"]:
                present = set(store.db.columns(table))
                problems.extend(_bad_json(store, table,
                                          [c for c in json_columns if c in present]))
    except (StoreError, sqlite3.DatabaseError) as exc:
        problems.append(getattr(exc, "message", None) or str(exc))
    report["ok"] = not problems
    return report


def _bad_json(store: StateStore, table: str, columns: list[str]) -> list[str]:
    """One problem per column with cells that do not decode, naming the rows by key."""
    keys = primary_key(table)
    bad: dict[str, list[str]] = {c: [] for c in columns}
    for row in iter_rows(store.db, table, keys + columns):
        key, values = row[:len(keys)], row[len(keys):]
        for column, text in zip(columns, values, strict=True):
            if text is not None and not _is_json(text):  # NULL: a nullable column unset
                bad[column].append("(" + ", ".join(f"{k}={v}" for k, v in
                                                   zip(keys, key, strict=True)) + ")")
    problems = []
    for column, rows in bad.items():
        if rows:
            more = f" and {len(rows) - SHOWN} more" if len(rows) > SHOWN else ""
            problems.append(f"{table}.{column} is not valid JSON in {len(rows)} "
                            f"row{'s' if len(rows) > 1 else ''}: "
                            + ", ".join(rows[:SHOWN]) + more)
    return problems


def _is_json(text: Any) -> bool:
    try:
        json.loads(text)
    except (TypeError, ValueError):
        return False
    return True


def copy(source: StateStore, target: StateStore, force: bool) -> dict[str, Any]:
    """Copy every table of ``source`` into ``target`` in one transaction, then verify.

    Both run locks are held by the caller. A target with any row is refused unless
    ``force`` (then its rows are replaced); a failed verification raises and leaves the
    copy for inspection, and the source is never changed.
    """
    if source.location == target.location:
        raise RuleViolation("the target is the state itself; name another file or database")
    tables = source.db.tables()
    existing = counts(target)
    occupied = {t: n for t, n in existing.items() if n}
    if occupied and not force:
        raise RuleViolation(f"{target.location} already holds state ("
                            + ", ".join(f"{n} {t}" for t, n in sorted(occupied.items()))
                            + "); pass --force to replace it")
    copied: dict[str, int] = {}
    with target.transaction() as conn:
        for table in existing:
            conn.execute(f'DELETE FROM "{table}"')
        for table in tables:
            columns = source.db.columns(table)
            insert = (f'INSERT INTO "{table}" (' + ", ".join(f'"{c}"' for c in columns)
                      + ") VALUES (" + ", ".join("?" * len(columns)) + ")")
            batch: list[tuple[Any, ...]] = []
            copied[table] = 0
            for row in iter_rows(source.db, table, columns):
                batch.append(row)
                if len(batch) >= BATCH:
                    conn.executemany(insert, batch)
                    copied[table] += len(batch)
                    batch = []
            if batch:
                conn.executemany(insert, batch)
                copied[table] += len(batch)
            target.db.after_copy(table)
    mismatched = [t for t in tables
                  if digest(source, t, source.db.columns(t))
                  != digest(target, t, source.db.columns(t))]
    if mismatched:
        raise StoreError(f"the copy in {target.location} differs from the source in "
                         f"{', '.join(mismatched)}; the source is unchanged")
    return {"from": source.location, "to": target.location, "tables": copied,
            "rows": sum(copied.values()), "verified": True}
