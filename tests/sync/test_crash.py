"""Crash acceptance on real `deskctl sync run` processes: SIGKILLs spread over a
bidirectional first sync of more than 10,000 records, and injected exits at each kind of
write batch (DESKCTL_TEST_EXIT_AFTER, an os._exit in the real code path), with data changed
between the kills and the reruns. The contents of both sides must equal, field by field,
those of the same seed synced without interruption and changed the same way.

Each runs with the state in a SQLite file and in PostgreSQL (tests/pgserver.py's server),
at the same size: each store's uninterrupted reference also sets the kill spacing, since a
run on PostgreSQL state takes longer. The two references must agree with each other."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from deskctl.backends.local import LocalBackend
from deskctl.backends.local.seed import SeedCounts, seed
from tests.sync.conftest import SyncWorld, make_world
from tests.sync.test_processes import env_for, sync_process

CONTACTS = 6600  # with the Desk contacts and accounts the seed adds: > 10,000 records


def seeded_world(home: Path, state: str | None = None, contacts: int = CONTACTS) -> None:
    # seeded at one fixed instant: every world's `newest` decisions are then the same
    os.environ["DESKCTL_NOW"] = "2026-06-01T00:00:00Z"
    try:
        world = make_world(home, state_at=state)
        seed_sandbox(world.backend, home, contacts)
        close(world)
    finally:
        del os.environ["DESKCTL_NOW"]


def seed_sandbox(backend: LocalBackend, home: Path, contacts: int, accounts: int = 300) -> None:
    """The messy seed, the same in every world (ids included)."""
    seed(backend, SeedCounts(accounts=accounts, contacts=contacts, leads=0, deals=0,
                             tickets=0), random_seed=11, messy=True)
    desk = first_desk(backend)
    # a few fields set on the Desk side only, so the first link merges both ways
    for record in list(desk.list_records("contacts"))[::40]:
        desk.update_record("contacts", record.id, {"phone": f"+1 555 {record.id[-4:]}"})
    (home / "seeded").write_text(f"{max(r.id for r in backend.crm.list_records('Contacts'))} "
                                 f"{max(r.id for r in desk.list_records('contacts'))}")


def first_desk(backend: LocalBackend) -> Any:
    """The portal the integration connects (acme-support, the sandbox's first)."""
    return backend.desk(backend.all_portals()[0].id)


def close(world: SyncWorld) -> None:
    world.backend.close()
    world.state.close()


def edit_both_sides(home: Path) -> None:
    sandbox = LocalBackend(home / "sandbox.db")
    try:
        edit_sandbox(sandbox, home)
    finally:
        sandbox.close()


def edit_sandbox(backend: LocalBackend, home: Path) -> None:
    """The same edits in every world: a CRM field and a Desk field of some records."""
    crm, desk_api = backend.crm, first_desk(backend)
    # the seed's own records (same ids in every world): what the sync created differs
    last = (home / "seeded").read_text().split()
    ids = sorted(r.id for r in crm.list_records("Contacts") if r.id <= last[0])[::97]
    crm.update_records("Contacts", [(i, {"Phone": f"+49 1 {i[-5:]}"}) for i in ids])
    desk = sorted(r.id for r in desk_api.list_records("contacts") if r.id <= last[1])
    for record_id in desk[5::89]:
        desk_api.update_record("contacts", record_id, {"firstName": f"Edited{record_id[-3:]}"})


def finish(home: Path, state: str | None = None) -> None:
    proc = sync_process(home, state=state)
    _out, err = proc.communicate(timeout=300)
    assert proc.returncode in (0, 3), err  # 3: the seed's ambiguous duplicates


def contents(home: Path) -> dict[str, list[tuple[Any, ...]]]:
    sandbox = LocalBackend(home / "sandbox.db")
    try:
        return sandbox_contents(sandbox)
    finally:
        sandbox.close()


def sandbox_contents(backend: LocalBackend) -> dict[str, list[tuple[Any, ...]]]:
    """Every record of both sides as sorted field tuples; account links by account name."""
    crm, desk = backend.crm, first_desk(backend)
    crm_accounts = {r.id: r.data.get("Account_Name") for r in crm.list_records("Accounts")}
    desk_accounts = {r.id: r.data.get("accountName") for r in desk.list_records("accounts")}
    return {
        "crm Accounts": sorted(tuple(sorted((k, str(v)) for k, v in r.data.items()))
                               for r in crm.list_records("Accounts")),
        "desk accounts": sorted(tuple(sorted((k, str(v)) for k, v in r.data.items()))
                                for r in desk.list_records("accounts")),
        "crm Contacts": sorted(tuple(sorted((k, str(crm_accounts.get(v) if k == "Account_Name"
                                                    else v)) for k, v in r.data.items()))
                               for r in crm.list_records("Contacts")),
        "desk contacts": sorted(tuple(sorted((k, str(desk_accounts.get(v) if k == "accountId"
                                                     else v)) for k, v in r.data.items()))
                                for r in desk.list_records("contacts")),
    }


def assert_same(expected: dict[str, list[tuple[Any, ...]]],
                actual: dict[str, list[tuple[Any, ...]]]) -> None:
    for name in expected:
        missing = set(expected[name]) - set(actual[name])
        extra = set(actual[name]) - set(expected[name])
        assert not missing and not extra, (
            f"{name}: {len(missing)} records differ, e.g. expected {sorted(missing)[:1]} "
            f"got {sorted(extra)[:1]}")
        assert len(expected[name]) == len(actual[name]), f"{name}: duplicates"


@dataclass
class Reference:
    contents: dict[str, list[tuple[Any, ...]]]
    duration: float  # of the uninterrupted first sync


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def new_state(request: pytest.FixtureRequest, store: str) -> str | None:
    """A fresh state for one world: None (the home's state.db) or a new PostgreSQL
    database on the session's server."""
    return None if store == "sqlite" else request.getfixturevalue("pg_server").new_database()


@pytest.fixture(scope="module")
def references() -> dict[str, Reference]:
    return {}


@pytest.fixture(scope="module")
def uninterrupted(request: pytest.FixtureRequest, store: str,
                  references: dict[str, Reference],
                  tmp_path_factory: pytest.TempPathFactory) -> Reference:
    home = tmp_path_factory.mktemp(f"uninterrupted-{store}")
    state = new_state(request, store)
    seeded_world(home, state)
    started = time.monotonic()
    finish(home, state)
    duration = time.monotonic() - started
    edit_both_sides(home)
    finish(home, state)
    result = contents(home)
    assert sum(len(v) for v in result.values()) > 10_000
    for other in references.values():  # the store changes nothing in the contents
        assert_same(other.contents, result)
    references[store] = Reference(result, duration)
    return references[store]


def test_sigkills_spread_over_a_first_sync_change_nothing(
        request: pytest.FixtureRequest, tmp_path: Path, store: str,
        uninterrupted: Reference) -> None:
    state = new_state(request, store)
    seeded_world(tmp_path, state)
    duration = uninterrupted.duration
    killed = 0
    # a kill early in the reads, then kills a fifth of a run apart: each rerun reads again
    # and gets a little further into the writes, so the kills spread over the whole job
    for attempt, fraction in enumerate((0.05, *[0.2] * 12)):
        proc = sync_process(tmp_path, state=state)
        time.sleep(duration * fraction)
        if proc.poll() is not None:
            break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        killed += 1
        if attempt == 2:
            edit_both_sides(tmp_path)
        if killed >= 6:
            break  # data changes between a kill and the rerun
    assert killed >= 5, "too few runs were interrupted for the test to prove anything"
    finish(tmp_path, state)
    assert_same(uninterrupted.contents, contents(tmp_path))


def test_exits_after_each_kind_of_write_batch_change_nothing(
        request: pytest.FixtureRequest, tmp_path: Path, store: str,
        uninterrupted: Reference) -> None:
    state = new_state(request, store)
    seeded_world(tmp_path, state)
    # in the order a run reaches them: pairs recorded, then CRM writes, then Desk writes
    points = ["state", "create-crm-sent", "create-crm", "update-crm-sent", "update-crm",
              "create-desk-sent", "create-desk:2", "update-desk-sent", "update-desk:3"]
    missed = []
    for point in points:
        proc = subprocess.run(sync_process_args(), env={**env_for(tmp_path, state),
                                                        "DESKCTL_TEST_EXIT_AFTER": point},
                              capture_output=True, text=True, timeout=300)
        if proc.returncode != 99:
            missed.append(point)
        if point == "update-crm-sent":
            edit_both_sides(tmp_path)
    assert not missed, f"the injected exits {missed} were not reached"
    finish(tmp_path, state)
    assert_same(uninterrupted.contents, contents(tmp_path))


def sync_process_args() -> list[str]:
    import sys

    return [sys.executable, "-m", "deskctl", "-o", "json", "sync", "run"]


@pytest.mark.parametrize("module,field,desk_field,kind", [
    ("Contacts", "Email", "email", "contacts"),
    ("Accounts", "Account_Name", "accountName", "accounts"),
])
def test_killed_after_a_create_then_its_match_key_edited_creates_no_duplicate(
        tmp_path: Path, state_location: str, module: str, field: str, desk_field: str,
        kind: str) -> None:
    state = state_location
    world = make_world(tmp_path, state_at=state)
    values = {"Contacts": {"Last_Name": "Ames", "Email": "ames@x.example"},
              "Accounts": {"Account_Name": "Acme GmbH"}}[module]
    source = world.crm_create(module, **values)
    close(world)
    proc = subprocess.run(sync_process_args(), env={
        **env_for(tmp_path, state), "DESKCTL_TEST_EXIT_AFTER": "create-desk-sent"},
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 99, proc.stderr  # created in Desk, recorded nowhere
    world = make_world(tmp_path, mode=None, state_at=state)
    assert len(list(world.desk.list_records(kind))) == 1
    new_value = "ames.new@x.example" if field == "Email" else "Acme Holding GmbH"
    world.crm_update(module, source, **{field: new_value})
    close(world)
    finish(tmp_path, state)
    finish(tmp_path, state)
    world = make_world(tmp_path, mode=None, state_at=state)
    desk = list(world.desk.list_records(kind))
    assert [r.data[desk_field] for r in desk] == [new_value]  # one record, the edit kept
    assert len(list(world.crm.list_records(module))) == 1  # no orphan copied back
    assert world.store.intents(module) == {}
    close(world)
