"""Real `deskctl sync run` processes: killed with SIGKILL mid-run, and run concurrently."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deskctl.state import StateStore
from tests.sync.conftest import SyncWorld, make_world


def big_world(home: Path, crm: int, desk: int, state: str | None = None) -> SyncWorld:
    world = make_world(home, state_at=state)
    accounts = [r.id for r in world.crm.create_records(
        "Accounts", [{"Account_Name": f"Account {i}"} for i in range(50)])]
    for start in range(0, crm, 100):
        world.crm.create_records("Contacts", [
            {"Last_Name": f"Crm {i}", "Account_Name": str(accounts[i % 50]),
             # every tenth has no email: only the create intent prevents its duplicate
             "Email": f"crm{i}@x.example" if i % 10 else None}
            for i in range(start, min(start + 100, crm))])
    for i in range(desk):
        world.desk.create_record("contacts", {"lastName": f"Desk {i}",
                                              "email": f"desk{i}@x.example"})
    world.backend.close()
    world.state.close()
    return world


def env_for(home: Path, state: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESKCTL_")}
    env.update({"DESKCTL_HOME": str(home / "home"),
                "DESKCTL_STATE": state or str(home / "state.db"),
                "DESKCTL_LOCAL_PATH": str(home / "sandbox.db"),
                "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"})
    return env


def sync_process(home: Path, *args: str, state: str | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "deskctl", "-o", "json", "sync", "run", *args],
                            env=env_for(home, state), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def lock_holder_pid(state: str) -> object:
    store = StateStore(state)
    try:
        return (store.run_lock("sync run").holder() or {}).get("pid")
    finally:
        store.close()


def wait_for_holder(state: str, pid: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while lock_holder_pid(state) != pid:
        if time.monotonic() > deadline:
            raise AssertionError(f"pid {pid} never took the lock")
        time.sleep(0.02)


def started_holding_the_lock(home: Path, state: str | None = None) -> subprocess.Popen[str]:
    proc = sync_process(home, state=state)
    wait_for_holder(state or str(home / "state.db"), proc.pid)
    return proc


def assert_converged(home: Path, crm: int, desk: int, state: str | None = None) -> None:
    world = make_world(home, mode=None, state_at=state)
    crm_names = [r.data["Last_Name"] for r in world.crm.list_records("Contacts")]
    desk_names = [r.data["lastName"] for r in world.desk.list_records("contacts")]
    assert len(crm_names) == len(set(crm_names)) == crm + desk, "duplicates in CRM"
    assert len(desk_names) == len(set(desk_names)) == crm + desk, "duplicates in Desk"
    assert len(world.store.pairs("Contacts")) == crm + desk
    assert world.store.intents("Contacts") == {}
    assert world.writes(world.run()) == 0


@pytest.mark.parametrize(("seed", "database"),
                         [(1, "sqlite"), (2, "sqlite"), (1, "postgresql")])
def test_a_run_killed_at_random_points_loses_and_duplicates_nothing(
        tmp_path: Path, seed: int, database: str, request: pytest.FixtureRequest) -> None:
    # big enough that a run outlasts a few kills at today's speed (3,600 records finished
    # within the first kill's delay once the local Desk wrote in batches of 100)
    crm, desk = 6000, 1200
    state = request.getfixturevalue("pg_url") if database == "postgresql" else None
    big_world(tmp_path, crm, desk, state)
    rng = random.Random(seed)
    killed, delay = 0, rng.uniform(0.25, 0.4)
    for _ in range(40):  # each killed run gets a little further, until one finishes
        proc = sync_process(tmp_path, state=state)
        time.sleep(delay)
        if proc.poll() is not None:
            break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        killed += 1
        delay += rng.uniform(0.02, 0.08)
    assert killed >= 2, "too few runs were interrupted for the test to prove anything"
    final = sync_process(tmp_path, state=state)
    out, err = final.communicate(timeout=120)
    assert final.returncode == 0, err
    assert json.loads(out)["errors"] == 0
    assert_converged(tmp_path, crm, desk, state)


def test_a_second_concurrent_run_exits_4_naming_the_holder(tmp_path: Path,
                                                           state_location: str) -> None:
    # 10,000 records: the holder still runs while the second process starts
    big_world(tmp_path, 10000, 0, state_location)
    first = started_holding_the_lock(tmp_path, state_location)
    second = sync_process(tmp_path, "--lock-timeout", "0", state=state_location)
    _out, err = second.communicate(timeout=60)
    assert second.returncode == 4
    assert f"pid {first.pid}" in err and "sync run" in err
    _out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert_converged(tmp_path, 10000, 0, state_location)


def test_a_waiting_run_proceeds_when_the_lock_is_released(tmp_path: Path,
                                                          state_location: str) -> None:
    big_world(tmp_path, 1000, 0, state_location)
    first = started_holding_the_lock(tmp_path, state_location)
    second = sync_process(tmp_path, "--lock-timeout", "60", state=state_location)
    assert first.wait(timeout=120) == 0
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert_converged(tmp_path, 1000, 0, state_location)
