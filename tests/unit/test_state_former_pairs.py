"""Former Account pairs in the state (schema 6, sync_former_pairs): remembered when a pair is
dropped, replaced by a later one sharing either id, forgotten with the links; and the
migration of a state the previous deskctl (schema 5) left, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from deskctl.models.sync import Pair
from deskctl.state import StateStore, dialect
from deskctl.state.schema import MIGRATIONS, SCHEMA_VERSION
from deskctl.state.sync import SyncStore
from tests.pgserver import schema_at

PREVIOUS = 5  # the schema before sync_former_pairs


def test_dropped_account_pairs_are_remembered(state_location: str) -> None:
    sync = SyncStore(StateStore(state_location))
    sync.save_pairs([Pair("Accounts", "c1", "d1", {}), Pair("Accounts", "c2", "d2", {}),
                     Pair("Contacts", "c9", "d9", {})])
    with sync.batch() as writes:
        writes.drop_pair("Accounts", "c1")
        writes.drop_pair("Contacts", "c9")
    assert sync.pair_map("Accounts") == {"c2": "d2"}
    assert sync.former_pairs("Accounts") == {"c1": "d1"}
    assert sync.former_pairs("Contacts") == {}  # nothing points to a contact
    # d1 linked again (by hand) to c3, then that pair forgotten too: the latest wins
    sync.save_pairs([Pair("Accounts", "c3", "d1", {})])
    sync.drop_pair("Accounts", "c3")
    sync.drop_pair("Accounts", "c2")
    assert sync.former_pairs("Accounts") == {"c3": "d1", "c2": "d2"}
    assert sync.forget_links(("Accounts",)) == 0
    assert sync.former_pairs("Accounts") == {}


def test_a_pair_saved_and_dropped_in_one_batch_is_remembered(state_location: str) -> None:
    sync = SyncStore(StateStore(state_location))
    with sync.batch() as writes:
        writes.save_pair(Pair("Accounts", "c1", "d1", {}))
        writes.drop_pair("Accounts", "c1")  # flushes the save first
    assert sync.former_pairs("Accounts") == {"c1": "d1"}


def _previous_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    for migration in MIGRATIONS[:PREVIOUS]:
        conn.executescript(migration)
    conn.execute(f"PRAGMA user_version = {PREVIOUS}")
    _rows(conn.execute)
    conn.commit()
    conn.close()


def _previous_pg(url: str) -> None:
    with schema_at(url, PREVIOUS) as conn:
        _rows(lambda sql, args: conn.execute(dialect.query(sql), args))


def _rows(execute: object) -> None:
    """What schema 5 holds after a pair unlinked by a deletion (its counterpart's id lost)
    and two `sync ignore`s of paired records (an Account from each side, and a Contact)."""
    ignored = "INSERT INTO sync_ignored VALUES (?, ?, ?, ?, ?, ?)"
    apart = "INSERT INTO sync_unlinked VALUES (?, ?, ?)"
    for sql, args in ((apart, ("Accounts", "desk", "d0")),
                      (ignored, ("Accounts", "desk", "d1", "c1", "t", "ada@x.example")),
                      (apart, ("Accounts", "crm", "c1")),
                      (ignored, ("Accounts", "crm", "c2", "d2", "t", "ada@x.example")),
                      (apart, ("Accounts", "desk", "d2")),
                      (ignored, ("Accounts", "crm", "c3", "", "t", "ada@x.example")),
                      (ignored, ("Contacts", "crm", "c9", "d9", "t", "ada@x.example"))):
        execute(sql, args)  # type: ignore[operator]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_previous_schema_is_migrated_with_its_ignored_pairs(
        tmp_path: Path, request: pytest.FixtureRequest, kind: str) -> None:
    if kind == "sqlite":
        location = str(tmp_path / "state.db")
        _previous_sqlite(Path(location))
    else:
        location = str(request.getfixturevalue("pg_url"))
        _previous_pg(location)
    store = StateStore(location)
    assert store.schema_version == SCHEMA_VERSION
    sync = SyncStore(store)
    # the ignored Accounts' counterparts are known; the unlink's (d0) was never kept
    assert sync.former_pairs("Accounts") == {"c1": "d1", "c2": "d2"}
    assert sync.former_pairs("Contacts") == {}
    assert sync.unlinked("Accounts") == {("desk", "d0"), ("desk", "d1"), ("crm", "c1"),
                                         ("crm", "c2"), ("desk", "d2"), ("crm", "c3")}
