"""Where the state lives: the one interface both databases implement, the SQLite file, and
the choice between them by the ``state`` setting (a path, or a ``postgresql://`` URL).

Everything above this module (StateStore, SyncStore, services) speaks the interface only.
The SQL they send is SQLite-flavoured and portable; PostgreSQL translates it on the way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Literal, Protocol

from deskctl.sqlitefile import SqliteFile, StoreError
from deskctl.state.schema import MIGRATIONS

Kind = Literal["sqlite", "postgresql"]
URL_SCHEMES = ("postgresql://", "postgres://")


class RunLockHandle(Protocol):
    def acquire(self) -> None: ...
    def release(self) -> None: ...
    def holder(self) -> dict[str, object] | None: ...
    def __enter__(self) -> Any: ...
    def __exit__(self, *exc: Any) -> None: ...


class Database(Protocol):
    """A connection to one profile's state, whichever database holds it."""

    kind: Kind

    @property
    def location(self) -> str:
        """For messages: a path, or the URL without any secret."""

    @property
    def conn(self) -> Any:
        """Runs ``execute(sql, params)`` / ``executemany``: ``?`` placeholders, rows by
        name and by position."""

    def transaction(self) -> AbstractContextManager[Any]: ...
    def close(self) -> None: ...
    def schema_version(self) -> int: ...
    def tables(self) -> list[str]: ...
    def columns(self, table: str) -> list[str]: ...
    def integrity(self) -> list[str]: ...
    def run_lock(self, operation: str, timeout: float) -> RunLockHandle: ...
    def after_copy(self, table: str) -> None: ...
    def exists(self) -> bool: ...
    def damaged(self, detail: str) -> StoreError: ...


def is_url(location: str | Path) -> bool:
    return str(location).startswith(URL_SCHEMES)


def open_database(location: str | Path, profile: str = "default") -> Database:
    """The database for ``location``; nothing is opened until first use."""
    if is_url(location):
        from deskctl.state.postgres import PgDatabase

        return PgDatabase(str(location), profile)
    return SqliteDatabase(Path(location))


class SqliteDatabase(SqliteFile):
    """The default: one file per profile (WAL, 0600), locked by a ``flock`` on a side file."""

    kind: Kind = "sqlite"
    migrations = MIGRATIONS
    label = "state file"
    recovery = ("restore it from a backup, or move it away to start over (losing the sync "
                "pairs and the audit log); 'deskctl state check' reports what is wrong")
    read_only_until_write = True  # `sync status` works on a state file it may not write

    @property
    def location(self) -> str:
        return str(self.path)

    def exists(self) -> bool:
        return self.path.is_file()

    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def tables(self) -> list[str]:
        rows = self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                 "AND name NOT LIKE 'sqlite_%' ORDER BY name")
        return [r[0] for r in rows]

    def columns(self, table: str) -> list[str]:
        return [r[1] for r in self.conn.execute(f'PRAGMA table_info("{table}")')]

    def integrity(self) -> list[str]:
        rows = [r[0] for r in self.conn.execute("PRAGMA integrity_check")]
        return [] if rows == ["ok"] else rows

    def run_lock(self, operation: str, timeout: float) -> RunLockHandle:
        from deskctl.state.lock import RunLock

        return RunLock(self.path, operation, timeout)

    def after_copy(self, table: str) -> None:
        """Nothing to do: SQLite moves AUTOINCREMENT counters past inserted ids itself."""


def iter_rows(db: Database, table: str, columns: list[str]) -> Iterator[tuple[Any, ...]]:
    names = ", ".join(f'"{c}"' for c in columns)
    for row in db.conn.execute(f'SELECT {names} FROM "{table}"'):
        yield tuple(row)


__all__ = ["Database", "Kind", "SqliteDatabase", "StoreError", "is_url", "open_database"]
