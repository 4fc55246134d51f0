"""The sandbox file: schema, Zoho-like ids, JSON records with times and tombstones."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from deskctl import clock
from deskctl.models.records import Record
from deskctl.sqlitefile import SqliteFile

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE crm_users (
        id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE COLLATE NOCASE, name TEXT NOT NULL,
        profile TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'active');
    CREATE TABLE portals (
        id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        admin_email TEXT NOT NULL COLLATE NOCASE, zsc_key TEXT NOT NULL,
        created_time TEXT NOT NULL);
    CREATE TABLE agents (
        id TEXT PRIMARY KEY, portal_id TEXT NOT NULL REFERENCES portals(id),
        email TEXT NOT NULL COLLATE NOCASE, name TEXT NOT NULL, role TEXT NOT NULL,
        status TEXT NOT NULL, invited_time TEXT, activated_time TEXT,
        UNIQUE (portal_id, email));
    CREATE TABLE departments (
        id TEXT PRIMARY KEY, portal_id TEXT NOT NULL REFERENCES portals(id), name TEXT NOT NULL);
    CREATE TABLE records (
        scope TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL,
        created_time TEXT NOT NULL, modified_time TEXT NOT NULL, seq INTEGER NOT NULL,
        PRIMARY KEY (scope, kind, id));
    CREATE INDEX records_modified ON records (scope, kind, modified_time, seq);
    CREATE TABLE tombstones (
        scope TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, deleted_time TEXT NOT NULL,
        seq INTEGER NOT NULL);
    CREATE INDEX tombstones_time ON tombstones (scope, kind, deleted_time);
    CREATE TABLE ticket_events (
        id TEXT PRIMARY KEY, ticket_id TEXT NOT NULL, kind TEXT NOT NULL, author TEXT NOT NULL,
        data TEXT NOT NULL, created_time TEXT NOT NULL, seq INTEGER NOT NULL);
    CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, seq);
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT, sent_time TEXT NOT NULL, portal_id TEXT,
        to_email TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL)
    """,
    # a department's From addresses (Zoho Desk: Setup > Channels > Email, listed by
    # GET /api/v1/mailReplyAddress); replies and forwards are sent from one of them
    """
    CREATE TABLE from_addresses (
        id TEXT PRIMARY KEY, department_id TEXT NOT NULL REFERENCES departments(id),
        address TEXT NOT NULL COLLATE NOCASE, display_name TEXT NOT NULL,
        is_active INTEGER NOT NULL DEFAULT 1, created_time TEXT NOT NULL);
    INSERT INTO from_addresses (id, department_id, address, display_name, created_time)
        SELECT d.id || '1', d.id, 'support@' || lower(replace(replace(p.name, ' ', '-'),
               '_', '-')) || '.example', d.name, p.created_time
        FROM departments d JOIN portals p ON p.id = d.portal_id;
    ALTER TABLE outbox ADD COLUMN from_email TEXT;
    ALTER TABLE outbox ADD COLUMN cc TEXT NOT NULL DEFAULT '';
    """,
    # CRM COQL's keyset pages, `order by Modified_Time asc, id asc` (ids compared as numbers)
    """
    CREATE INDEX records_keyset ON records (scope, kind, modified_time, CAST(id AS INTEGER));
    """,
    # the fine modified time (epoch microseconds) the in-process facets read by; its floor
    # is modified_time, the second the emulator serves as Zoho's
    """
    ALTER TABLE records ADD COLUMN modified_us INTEGER NOT NULL DEFAULT 0;
    UPDATE records SET modified_us = CAST(strftime('%s', modified_time) AS INTEGER) * 1000000;
    CREATE INDEX records_fine ON records (scope, kind, modified_us, seq);
    """,
)
MICROSECOND = timedelta(microseconds=1)


def micros(value: datetime) -> int:
    """``value`` as epoch microseconds (exact: no float)."""
    return (value - clock.EPOCH) // MICROSECOND


def fine_time(second: str, us: int) -> str:
    """The fine modified time as clock.iso writes it: ``second`` (the whole-second column,
    ``...:SSZ``) with the microseconds of ``us``, when there are any."""
    fraction = us % 1_000_000
    return f"{second[:-1]}.{fraction:06d}Z" if fraction else second


def system_micros() -> int:
    """The system clock (clock.fine_now's) as epoch microseconds, without a datetime."""
    return time.time_ns() // 1000


@lru_cache(maxsize=4)
def _second(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


class Stamp:
    """One write's time: the fine instant, its epoch microseconds and its second."""

    __slots__ = ("fine", "second", "us")

    def __init__(self) -> None:
        self.us = micros(clock.fine_now()) if clock.frozen() else system_micros()
        self.second = _second(self.us // 1_000_000)
        self.fine = fine_time(self.second, self.us)

    def shown(self, fine: bool) -> str:
        return self.fine if fine else self.second


CRM_SCOPE = "crm"
CRM_ID_PREFIX = "5725767"  # Zoho CRM ids: 19 digits
DESK_ID_PREFIX = "20683300"  # Zoho Desk ids: 18 digits


class SandboxDb(SqliteFile):
    """Thin helpers over the sandbox SQLite file; callers hold the rules."""

    migrations = MIGRATIONS
    label = "sandbox file"
    recovery = "'deskctl sandbox reset --yes' starts a new sandbox"
    _stamped: int | None = None  # the newest stamp of the open write transaction
    _seq: int | None = None  # the write counter as the open write transaction moved it

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """As SqliteFile's; a write transaction commits only once the clock has left the
        microsecond of its last stamp. Stamps are taken under the write lock (BEGIN
        IMMEDIATE), so every write committed later is stamped later, strictly: what the
        sync's catch-up relies on at the local backend's 1 µs time step. The write counter
        is read once and stored once per transaction (the lock keeps it ours meanwhile)."""
        if self._depth:
            with super().transaction() as conn:
                yield conn
            return
        self._stamped = self._seq = None
        try:
            with super().transaction() as conn:
                yield conn
                if self._seq is not None:
                    conn.execute("INSERT INTO meta VALUES ('seq', ?) ON CONFLICT(key) DO "
                                 "UPDATE SET value = excluded.value", (str(self._seq),))
                if self._stamped is not None and not clock.frozen():
                    # a microsecond at most; a clock set back (outside the argument) must
                    # not hold the lock until it catches up
                    end = time.monotonic() + 0.01
                    while system_micros() <= self._stamped and time.monotonic() < end:
                        time.sleep(0)
        finally:
            self._stamped = self._seq = None

    def _move_seq(self, count: int) -> int:
        """Move the write counter by ``count`` (inside the open transaction); its new value."""
        if self._seq is None:
            row = self.conn.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()
            self._seq = int(row[0]) if row else 0
        self._seq += count
        return self._seq

    def stamp(self) -> Stamp:
        """The time of a write made in the open transaction."""
        stamp = Stamp()
        self._stamped = stamp.us
        return stamp

    def meta(self, key: str, default: Any = None) -> Any:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def set_meta(self, key: str, value: Any) -> None:
        with self.transaction() as conn:
            conn.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE "
                         "SET value = excluded.value", (key, json.dumps(value)))

    def next_seq(self, count: int = 1) -> int:
        """A counter that orders every write (ids and modifications with one time); moves
        it by ``count`` and returns the last value taken."""
        with self.transaction():
            return self._move_seq(count)

    def new_id(self, side: str, seq: int | None = None) -> str:
        prefix, width = (CRM_ID_PREFIX, 12) if side == CRM_SCOPE else (DESK_ID_PREFIX, 10)
        return f"{prefix}{seq if seq is not None else self.next_seq():0{width}d}"

    # generic records: scope is "crm" or a portal id; kind is a module or Desk collection

    @staticmethod
    def _record(row: sqlite3.Row, fine: bool = False) -> Record:
        """The row as a Record: its modified time fine (the in-process facets) or whole
        seconds (the emulator, as Zoho)."""
        second = row["modified_time"]
        return Record(row["id"], json.loads(row["data"]), row["created_time"],
                      fine_time(second, row["modified_us"]) if fine else second)

    def records(self, scope: str, kind: str, modified_since: str | None = None,
                page: int = 500, fine: bool = False) -> Iterator[Record]:
        """Oldest modification first, in keyset pages on (modified time, seq): each page
        starts after the last row of the one before, so a record written while the caller
        is between pages moves to the end (and is read again there) without shifting any
        other record past a page boundary, as offsets would. ``fine``: by the fine
        time, ``modified_since`` taken to the microsecond; else by its second."""
        column = "modified_us" if fine else "modified_time"
        start: int | str
        if fine:
            start = micros(clock.parse_time(modified_since)) if modified_since else -2 ** 62
        else:
            start = modified_since or ""
        key: tuple[int | str, int] = (start, -1)
        while True:
            rows = self.conn.execute(
                f"SELECT * FROM records WHERE scope = ? AND kind = ? AND ({column} > ? "
                f"OR ({column} = ? AND seq > ?)) ORDER BY {column}, seq LIMIT ?",
                (scope, kind, key[0], key[0], key[1], page)).fetchall()
            for row in rows:
                yield self._record(row, fine)
            if len(rows) < page:
                return
            key = (rows[-1][column], rows[-1]["seq"])

    def by_id(self, scope: str, kind: str, since: str | None = None, after: int | None = None,
              page: int = 500) -> Iterator[Record]:
        """Oldest modification first and, within a second, by numeric id (CRM COQL's
        `order by Modified_Time, id`), from the second ``since`` after the id ``after``
        (None: from its first record), in keyset pages: a page costs what it holds, however
        many records share its second (a bulk import)."""
        cols = "SELECT * FROM records WHERE scope = ? AND kind = ? AND "
        time = since or ""
        while True:
            if after is None:  # a whole second, then the ones after it
                rows = self.conn.execute(
                    f"{cols}modified_time >= ? ORDER BY modified_time, CAST(id AS INTEGER) "
                    "LIMIT ?", (scope, kind, time, page)).fetchall()
            else:  # the rest of a second, then the ones after it
                rows = self.conn.execute(
                    f"{cols}modified_time = ? AND CAST(id AS INTEGER) > ? "
                    "ORDER BY CAST(id AS INTEGER) LIMIT ?",
                    (scope, kind, time, after, page)).fetchall()
                if len(rows) < page:
                    rows += self.conn.execute(
                        f"{cols}modified_time > ? ORDER BY modified_time, CAST(id AS INTEGER) "
                        "LIMIT ?", (scope, kind, time, page - len(rows))).fetchall()
            for row in rows:
                yield self._record(row)
            if len(rows) < page:
                return
            time, after = rows[-1]["modified_time"], int(rows[-1]["id"])

    def window(self, scope: str, kind: str, first: str, last: str, offset: int, limit: int
               ) -> tuple[int, list[Record]]:
        """Records modified from ``first`` to ``last`` (both included), in `records`'
        order: how many, and ``limit`` of them from ``offset`` (the emulator's searches)."""
        where = "scope = ? AND kind = ? AND modified_time >= ? AND modified_time <= ?"
        args = (scope, kind, first, last)
        count = self.conn.execute(f"SELECT COUNT(*) FROM records WHERE {where}",
                                  args).fetchone()[0]
        rows = self.conn.execute(f"SELECT * FROM records WHERE {where} ORDER BY "
                                 "modified_time, seq LIMIT ? OFFSET ?",
                                 (*args, limit, offset)).fetchall()
        return int(count), [self._record(r) for r in rows]

    def record(self, scope: str, kind: str, record_id: str, fine: bool = False
               ) -> Record | None:
        row = self.conn.execute("SELECT * FROM records WHERE scope = ? AND kind = ? AND id = ?",
                                (scope, kind, record_id)).fetchone()
        return self._record(row, fine) if row else None

    def exists(self, scope: str, kind: str, record_id: str) -> bool:
        """Whether the record is there (a lookup's check: its data is not read)."""
        return self.conn.execute("SELECT 1 FROM records WHERE scope = ? AND kind = ? AND id = ?",
                                 (scope, kind, record_id)).fetchone() is not None

    def many(self, scope: str, kind: str, ids: list[str], fine: bool = False) -> list[Record]:
        """The records of ``ids`` that exist, in no particular order."""
        found: list[Record] = []
        wanted = sorted(set(ids))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            rows = self.conn.execute(
                f"SELECT * FROM records WHERE scope = ? AND kind = ? AND id IN "
                f"({','.join('?' * len(chunk))})", [scope, kind, *chunk])
            found += [self._record(r, fine) for r in rows]
        return found

    def find(self, scope: str, kind: str, field: str, values: list[str], fine: bool = False
             ) -> list[Record]:
        """Records whose JSON ``field`` equals one of ``values`` ignoring case."""
        found: list[Record] = []
        wanted = sorted({v.lower() for v in values})
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                f"SELECT * FROM records WHERE scope = ? AND kind = ? AND "
                f"lower(json_extract(data, ?)) IN ({marks}) ORDER BY seq",
                [scope, kind, f"$.{field}", *chunk])
            found += [self._record(r, fine) for r in rows]
        return found

    def insert(self, scope: str, kind: str, data: dict[str, Any], record_id: str | None = None,
               fine: bool = False) -> Record:
        with self.transaction() as conn:
            now = self.stamp()
            if record_id:
                rid, seq = record_id, self._move_seq(1)
            else:  # one move of the counter for both: the id, then the row's order
                seq = self._move_seq(2)
                rid = self.new_id(CRM_SCOPE if scope == CRM_SCOPE else "desk", seq - 1)
            conn.execute("INSERT INTO records (scope, kind, id, data, created_time, "
                         "modified_time, seq, modified_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (scope, kind, rid, json.dumps(data), now.second, now.second, seq,
                          now.us))
        return Record(rid, data, now.second, now.shown(fine))

    def replace(self, scope: str, kind: str, record: Record, data: dict[str, Any],
                fine: bool = False) -> Record:
        """Store new field values; the modified time moves on every write, like Zoho's."""
        with self.transaction() as conn:
            now = self.stamp()
            conn.execute("UPDATE records SET data = ?, modified_time = ?, modified_us = ?, "
                         "seq = ? WHERE scope = ? AND kind = ? AND id = ?",
                         (json.dumps(data), now.second, now.us, self._move_seq(1), scope,
                          kind, record.id))
        return Record(record.id, data, record.created_time, now.shown(fine))

    def remove(self, scope: str, kind: str, record_id: str) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM records WHERE scope = ? AND kind = ? AND id = ?",
                         (scope, kind, record_id))
            conn.execute("INSERT INTO tombstones VALUES (?, ?, ?, ?, ?)",
                         (scope, kind, record_id, clock.now_iso(), self.next_seq()))

    def tombstones(self, scope: str, kind: str, since: str | None) -> list[tuple[str, str]]:
        sql = "SELECT id, deleted_time FROM tombstones WHERE scope = ? AND kind = ?"
        args: list[Any] = [scope, kind]
        if since:  # deletions keep whole seconds: from the second of a finer cursor
            sql += " AND deleted_time >= ?"
            args.append(clock.iso_second(clock.parse_time(since)))
        return [(r[0], r[1]) for r in self.conn.execute(sql + " ORDER BY deleted_time, seq", args)]
