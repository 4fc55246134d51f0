"""Opening deskctl's SQLite files: private (0600), WAL, versioned by ordered migrations.

Damage (a 0-byte file, a dropped table, garbage bytes) and unusable files (read-only, a
read-only folder) become one StoreError naming the file and what to do; nothing here
re-initialises a file that exists.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import quote

from deskctl.errors import DeskctlError


class StoreError(DeskctlError):
    kind = "state"


def create_private_file(path: Path) -> None:
    """Create ``path`` (and its folder) readable by the owner only, if it does not exist."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)


def _tables(migrations: tuple[str, ...]) -> set[str]:
    return set(re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)", "\n".join(migrations)))


class _Connection(sqlite3.Connection):
    """Turns SQLite's errors about the file itself into a StoreError naming it."""

    owner: SqliteFile

    def execute(self, *args: Any) -> sqlite3.Cursor:
        try:
            return super().execute(*args)
        except sqlite3.DatabaseError as exc:
            raise self.owner.translate(exc) from None

    def executemany(self, *args: Any) -> sqlite3.Cursor:
        try:
            return super().executemany(*args)
        except sqlite3.DatabaseError as exc:
            raise self.owner.translate(exc) from None


class SqliteFile:
    """One SQLite file, opened on first use, with nestable transactions.

    With ``read_only_until_write`` an existing, current file is opened read-only and only
    reopened for writing by the first ``transaction()``, so commands that only read work on
    a file they may not write."""

    migrations: tuple[str, ...] = ()
    label = "database file"
    recovery = "restore it from a backup"
    read_only_until_write = False

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None
        self._writable = False
        self._depth = 0

    # errors

    def damaged(self, detail: str) -> StoreError:
        return StoreError(f"the {self.label} {self.path} is damaged ({detail}); "
                          f"{self.recovery}")

    def translate(self, exc: sqlite3.DatabaseError) -> Exception:
        """A StoreError for problems with the file; other errors (constraints) unchanged."""
        text = str(exc)
        if isinstance(exc, (sqlite3.IntegrityError, sqlite3.ProgrammingError)):
            return exc
        if "readonly" in text or "read-only" in text:
            return StoreError(f"cannot write the {self.label} {self.path}: it (or its folder) "
                              "is read-only")
        if "locked" in text or "busy" in text:
            return StoreError(f"the {self.label} {self.path} stayed locked by another process "
                              "for 30 s; try again")
        if isinstance(exc, sqlite3.OperationalError) and not text.startswith("no such"):
            return StoreError(f"cannot use the {self.label} {self.path}: {text}")
        return self.damaged(text)

    # opening

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self._open(write=not self.read_only_until_write)
        assert self._conn is not None
        return self._conn

    def _open(self, write: bool) -> None:
        self.close()
        try:
            if not self.path.exists():
                self._create()
            elif self.path.is_dir():
                raise StoreError(f"the {self.label} {self.path} is a directory")
            elif self.path.stat().st_size == 0:
                raise self.damaged("it is empty, 0 bytes")
            conn = self._connect(write)
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > len(self.migrations):
                raise StoreError(f"{self.path} has schema version {version}, newer than this "
                                 f"deskctl understands ({len(self.migrations)}); upgrade deskctl")
            if version < len(self.migrations) and not write:
                conn.close()
                conn, write = self._connect(True), True
            if write:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                self._migrate(conn)
            present = {r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            missing = sorted(_tables(self.migrations) - present)
            if missing:
                conn.close()
                raise self.damaged(f"table {', '.join(missing)} missing")
        except OSError as exc:
            raise StoreError(f"cannot open the {self.label} {self.path}: "
                             f"{exc.strerror or exc}") from None
        except sqlite3.DatabaseError as exc:
            raise self.translate(exc) from None
        self._conn, self._writable = conn, write

    def _connect(self, write: bool) -> sqlite3.Connection:
        target = str(self.path) if write else f"file:{quote(str(self.path))}?mode=ro"
        conn = sqlite3.connect(target, timeout=30, isolation_level=None,
                               check_same_thread=False, uri=not write, factory=_Connection)
        assert isinstance(conn, _Connection)
        conn.owner = self
        conn.row_factory = sqlite3.Row
        return conn

    def _create(self) -> None:
        """A new file appears whole (migrated) or not at all, so a kill mid-creation never
        leaves the 0-byte file that counts as damage."""
        temp = self.path.with_name(f".{self.path.name}.{os.getpid()}.new")
        create_private_file(temp)
        try:
            conn = sqlite3.connect(temp, isolation_level=None)
            try:
                self._migrate(conn)
                conn.execute("PRAGMA journal_mode=WAL")  # kept in the file; closing folds it in
            finally:
                conn.close()
            with suppress(FileExistsError):  # never replace a file another process created
                os.link(temp, self.path)
        finally:
            temp.unlink(missing_ok=True)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        """Bring the file to the newest schema; another process may migrate meanwhile."""
        for number in range(conn.execute("PRAGMA user_version").fetchone()[0],
                            len(self.migrations)):
            conn.execute("BEGIN IMMEDIATE")
            try:
                if conn.execute("PRAGMA user_version").fetchone()[0] == number:
                    for statement in self.migrations[number].split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {number + 1}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All writes inside commit together or not at all; nested calls join the outer one."""
        if self._depth:
            self._depth += 1
            try:
                yield self.conn
            finally:
                self._depth -= 1
            return
        if not self._writable:
            self._open(write=True)
        conn = self.conn
        try:  # from BEGIN on: a signal right after it must still roll back
            self._depth = 1
            conn.execute("BEGIN IMMEDIATE")
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")
        finally:
            self._depth = 0
