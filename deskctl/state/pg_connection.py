"""The PostgreSQL connection as the state store sees it: ``?`` placeholders (dialect.py),
rows readable by name and by position like sqlite3.Row, and the writes of a transaction
held and sent together in one message with the next read or the COMMIT."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from deskctl.errors import ConfigError
from deskctl.state import dialect

if TYPE_CHECKING:
    from deskctl.state.postgres import PgDatabase

INSTALL_HINT = ("the state is on PostgreSQL but its driver is not installed: "
                "pip install 'deskctl[postgres]'")


def driver() -> Any:
    """psycopg, or one line saying what to install."""
    try:
        import psycopg
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    return psycopg


def quote(name: str) -> str:
    """An SQL identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


class Row(tuple):
    """A result row readable by column name and by position, like sqlite3.Row."""

    __slots__ = ()
    _index: dict[str, int] = {}

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


@lru_cache(maxsize=512)
def _row_class(names: tuple[str, ...]) -> type[Row]:
    return type("Row", (Row,), {"__slots__": (), "_index": {n: i for i, n in enumerate(names)}})


def rows_by_name(cursor: Any) -> Any:
    """psycopg's row factory for Row."""
    if cursor.description is None:
        return tuple
    return _row_class(tuple(c.name for c in cursor.description))


class _Deferred:
    """What a write inside a transaction returns: it is sent with the next read or the
    commit, so nothing about its result can be asked."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"a write inside a PostgreSQL state transaction is sent at "
                           f"commit; its {name} is not available (use RETURNING)")


DEFERRED = _Deferred()
FLUSH_AT = 2000  # statements held before they are sent anyway
ANALYZE_AFTER = 2000  # rows written to a table before its statistics are first refreshed


class PgConnection:
    """The part of a DB-API connection the store uses, with ``?`` placeholders.

    Inside a transaction, writes whose result nobody reads (INSERT/UPDATE/DELETE without
    RETURNING) are rendered with their values and sent together, as one multi-statement
    message with the next read or the COMMIT: a batch of a thousand writes costs one round
    trip instead of a thousand. Statements keep their order; an error still fails the
    transaction as a whole."""

    def __init__(self, raw: Any, db: PgDatabase) -> None:
        self.raw = raw
        self._db = db
        # values rendered as psycopg's client-side binding does (ClientCursor.mogrify),
        # without re-parsing each statement's text: set-based writes are long, and psycopg
        # caches the parse of short statements only
        self._literal = driver().adapt.Transformer(raw).as_literal
        self._queue: list[str] = []
        self._changed: dict[str, int] = {}  # rows written per table since its last ANALYZE
        self._analyze_at: dict[str, int] = {}  # doubles each time: a few ANALYZEs per run
        self.deferring = False

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        query = dialect.query(sql)
        if self.deferring and dialect.is_plain_write(sql):
            self._defer(query, [params])
            return DEFERRED
        self.flush()
        with self._db.lost_connection(), self._db.interruptible():
            return self.raw.execute(query, tuple(params))

    def executemany(self, sql: str, seq: Any) -> Any:
        query = dialect.query(sql)
        if self.deferring and dialect.is_plain_write(sql):
            self._defer(query, seq)
            return DEFERRED
        self.flush()
        with self._db.lost_connection(), self._db.interruptible():
            cursor = self.raw.cursor()
            cursor.executemany(query, [tuple(p) for p in seq])
            return cursor

    def _defer(self, query: str, seq: Any) -> None:
        table = dialect.written_table(query)
        literal, encoding = self._literal, self.raw.info.encoding
        template, rows = dialect.template(query, encoding), dialect.rows_named(query)
        with self._db.lost_connection():
            for params in seq:
                values = tuple(b"NULL" if v is None else literal(v) for v in params)
                self._queue.append((template % values).decode(encoding))
                self._changed[table] = self._changed.get(table, 0) + rows
        if len(self._queue) >= FLUSH_AT:
            self.flush()

    def flush(self, then: str = "") -> None:
        """Send the held writes (and ``then``, e.g. COMMIT) in one message."""
        if then:
            self._queue.append(then)
        if not self._queue:
            return
        text, self._queue = ";\n".join(self._queue), []
        with self._db.lost_connection(), self._db.interruptible():
            self.raw.execute(text, prepare=False)  # no parameters: the simple protocol

    def begin(self) -> None:
        self._queue, self.deferring = ["BEGIN"], True

    def commit(self) -> None:
        self.deferring = False
        if self._queue == ["BEGIN"]:  # nothing was written or read: nothing to send
            self._queue = []
            return
        self.flush(then="COMMIT")
        # A first sync fills tables faster than autovacuum looks at them; without fresh
        # statistics the planner scans whole tables for the run's next key lookups.
        stale = [t for t, n in self._changed.items()
                 if t and n >= self._analyze_at.get(t, ANALYZE_AFTER)]
        if stale:
            with self._db.lost_connection(), self._db.interruptible():
                self.raw.execute("ANALYZE " + ", ".join(quote(t) for t in stale))
            for table in stale:
                self._analyze_at[table] = 2 * self._analyze_at.get(table, ANALYZE_AFTER)
                del self._changed[table]

    def discard(self) -> None:
        self._queue = []
