"""The set-based state writes (deskctl/state/batch.py) against the one-record SyncStore
methods: any sequence of operations sent as one batch leaves the same rows as the same
operations made one by one, on SQLite and on PostgreSQL."""

from __future__ import annotations

from itertools import count
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deskctl.models.sync import Pair
from deskctl.state import StateStore
from deskctl.state.sync import SyncStore

IDS = st.sampled_from(["1", "2", "3"])
SIDES = st.sampled_from(["crm", "desk"])
OPERATION = st.one_of(
    st.tuples(st.just("save_pair"), IDS, IDS, st.sampled_from(["Ada", "Bea"])),
    st.tuples(st.just("drop_pair"), IDS),
    st.tuples(st.just("add_conflict"), IDS, IDS, st.sampled_from(["x", "y"])),
    st.tuples(st.just("close_conflict"), IDS),
    st.tuples(st.just("record_error"), SIDES, IDS, st.sampled_from(["ambiguous", "write"])),
    st.tuples(st.just("clear_error"), SIDES, IDS),
    st.tuples(st.just("add_intent"), SIDES, IDS, st.sampled_from(["a@x", "b@x"])),
    st.tuples(st.just("clear_intent"), SIDES, IDS),
    st.tuples(st.just("keep_apart"), SIDES, IDS),
)
TABLES = {"sync_pairs": "crm_id", "sync_conflicts": "crm_id", "sync_errors": "record_id",
          "sync_intents": "record_id", "sync_unlinked": "record_id"}


def apply(target: Any, op: tuple[Any, ...]) -> None:
    """One operation on a StateBatch or, one by one, on a SyncStore (same names)."""
    name, *args = op
    if name == "save_pair":
        crm, desk, last = args
        pair = Pair("Contacts", f"c{crm}", f"d{desk}", {"Last_Name": last},
                    {"desk": {"Last_Name": last}}, {"crm": "2026-01-01T00:00:00Z"})
        if isinstance(target, SyncStore):
            target.save_pairs([pair])
        else:
            target.save_pair(pair)
    elif name in ("drop_pair", "close_conflict"):
        getattr(target, name)("Contacts", f"c{args[0]}")
    elif name == "add_conflict":
        crm, desk, value = args
        target.add_conflict("Contacts", f"c{crm}", f"d{desk}", {"Phone": (value, "z")})
    elif name == "record_error":
        side, record, kind = args
        target.record_error("Contacts", side, record, f"{kind} problem", kind)
    elif name == "add_intent":
        side, record, email = args
        intent = (record, {"Email": email}, [f"Email={email}"], "fp")
        if isinstance(target, SyncStore):
            target.add_intents("Contacts", side, [intent])
        else:
            target.add_intent("Contacts", side, *intent)
    else:
        getattr(target, name)("Contacts", *args)


def rows(sync: SyncStore) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the sync tables, without generated ids."""
    result = {}
    for table, key in TABLES.items():
        found = sync.store.conn.execute(f"SELECT * FROM {table} ORDER BY module, {key}")
        result[table] = sorted(tuple(v for k, v in zip(r.keys(), r, strict=True) if k != "id")
                               for r in found)
    return result


@pytest.fixture
def stores(state_location: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("DESKCTL_NOW", "2026-06-01T00:00:00Z")  # same times both ways
    made = count()
    opened: list[StateStore] = []

    def pair_of_stores() -> tuple[SyncStore, SyncStore]:
        fresh = []
        for _ in range(2):
            number = next(made)
            if state_location.startswith("postgresql"):
                store = StateStore(state_location, f"batch{number}")
            else:
                store = StateStore(f"{state_location}.{number}")
            opened.append(store)
            fresh.append(SyncStore(store))
        return fresh[0], fresh[1]

    yield pair_of_stores
    for store in opened:
        store.close()


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=st.lists(OPERATION, max_size=6), batch=st.lists(OPERATION, max_size=14))
def test_a_batch_leaves_the_rows_of_the_same_operations_one_by_one(
        stores: Any, before: list[tuple[Any, ...]], batch: list[tuple[Any, ...]]) -> None:
    one_by_one, batched = stores()
    for sync in (one_by_one, batched):
        for op in before:  # rows already there for the batch to replace or delete
            apply(sync, op)
    for op in batch:
        apply(one_by_one, op)
    with batched.batch() as writes:
        for op in batch:
            apply(writes, op)
    assert rows(batched) == rows(one_by_one)


def test_a_failing_batch_writes_nothing(state_location: str) -> None:
    sync = SyncStore(StateStore(state_location))
    with pytest.raises(RuntimeError), sync.batch() as writes:
        writes.save_pair(Pair("Contacts", "c1", "d1", {"Last_Name": "Ada"}))
        writes.record_error("Contacts", "crm", "c1", "problem")
        raise RuntimeError("boom")
    assert sync.pairs("Contacts") == {} and sync.errors() == []


def test_values_come_back_as_written_whatever_their_characters(state_location: str) -> None:
    """Held writes are rendered into the statement's text on PostgreSQL: quotes,
    backslashes, placeholders and percent signs in values stay values."""
    text = "O'Brien \\ %s %% ? ; -- ünï 💥"
    sync = SyncStore(StateStore(state_location))
    with sync.batch() as writes:
        writes.save_pair(Pair("Contacts", "c1", "d1", {"Last_Name": text, "n": 1.5, "b": True}))
        writes.record_error("Contacts", "crm", "c1", text, "ambiguous", text)
    assert sync.pairs("Contacts")["c1"].base == {"Last_Name": text, "n": 1.5, "b": True}
    [error] = sync.errors()
    assert (error["message"], error["match_key"]) == (text, text)
