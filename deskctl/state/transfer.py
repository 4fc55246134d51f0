"""Checking a state store and copying one profile's state to another store (file or
PostgreSQL), verified row by row. Tables are discovered, not listed, so a table a new
migration adds is checked and copied without changes here."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from functools import lru_cache
from typing import Any

from deskctl.errors import RuleViolation
from deskctl.sqlitefile import StoreError
from deskctl.state.database import iter_rows
from deskctl.state.schema import MIGRATIONS, SCHEMA_VERSION
from deskctl.state.store import StateStore

JSON_COLUMNS = (("settings", "value"), ("audit", "details"))
BATCH = 1000


@lru_cache(maxsize=1)
def expected_tables() -> dict[str, list[str]]:
    """{table: columns} that MIGRATIONS produce, read from a scratch in-memory database."""
    conn = sqlite3.connect(":memory:")
    for migration in MIGRATIONS:
        conn.executescript(migration)
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                        "AND name NOT LIKE 'sqlite_%'")]
    return {n: [c[1] for c in conn.execute(f'PRAGMA table_info("{n}")')] for n in names}


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
        for table, column in JSON_COLUMNS:
            if table in report["tables"] and column in store.db.columns(table):
                bad = sum(1 for (text,) in iter_rows(store.db, table, [column])
                          if not _is_json(text))
                if bad:
                    problems.append(f"{bad} rows of {table} hold unreadable {column}")
    except (StoreError, sqlite3.DatabaseError) as exc:
        problems.append(getattr(exc, "message", None) or str(exc))
    report["ok"] = not problems
    return report


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
