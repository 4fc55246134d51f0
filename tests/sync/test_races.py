"""State changes racing a real `deskctl sync run` process: they exit 4 naming the run or
wait for it, and a sync's pairs never mix two portals. The run is frozen with SIGSTOP while
it holds the lock, so "while a sync runs" does not depend on the machine's speed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deskctl.backends.local import LocalBackend
from deskctl.state import StateStore
from deskctl.state.sync import SyncStore
from tests.sync.test_processes import big_world, env_for, started_holding_the_lock

CONTACTS = 1500


@pytest.fixture
def state(state_location: str) -> str:
    """Each race runs with the state in a file and in PostgreSQL."""
    return state_location


def deskctl(home: Path, state: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "deskctl", *args], env=env_for(home, state),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def running_sync(home: Path, state: str) -> subprocess.Popen[str]:
    """A sync run that holds the lock and has recorded itself as running."""
    run = started_holding_the_lock(home, state)
    deadline = time.monotonic() + 30
    while ("running", None) not in runs(state):
        assert time.monotonic() < deadline and run.poll() is None, "the run never started"
        time.sleep(0.01)
    return run


def frozen_sync(home: Path, state: str) -> subprocess.Popen[str]:
    run = running_sync(home, state)
    os.kill(run.pid, signal.SIGSTOP)
    return run


def query(state: str, sql: str) -> list[tuple[object, ...]]:
    store = StateStore(state)
    try:
        return [tuple(r) for r in store.conn.execute(sql)]
    finally:
        store.close()


def audit_actions(state: str) -> list[str]:
    return [str(r[0]) for r in query(state, "SELECT action FROM audit ORDER BY id")]


def opened(home: Path, state: str) -> tuple[LocalBackend, StateStore, SyncStore]:
    store = StateStore(state)
    return LocalBackend(home / "sandbox.db"), store, SyncStore(store)


def runs(state: str) -> list[tuple[object, ...]]:
    return query(state, "SELECT outcome, finished_at FROM sync_runs ORDER BY id")


CONTENDERS = {
    "portal switch": ("portal", "switch", "acme-labs", "--yes"),
    "integration deactivate": ("integration", "deactivate", "--yes"),
    "sync resolve": ("sync", "resolve", "1", "--take", "crm"),
    "sync configure": ("sync", "configure", "--conflict", "crm-wins"),
    "sync pause": ("sync", "pause"),
    "sync link": ("sync", "link", "1", "2"),
    "sync ignore": ("sync", "ignore", "1", "--side", "crm"),
    "apply": ("apply", "-f", "{file}", "--yes"),
}


@pytest.mark.parametrize("name", CONTENDERS)
def test_state_changes_during_a_sync_exit_4_naming_it(
        tmp_path: Path, name: str, state: str) -> None:
    big_world(tmp_path, CONTACTS, 0, state)
    (tmp_path / "integration.yaml").write_text("sync:\n  paused: true\n")
    run = frozen_sync(tmp_path, state)
    try:
        args = [a.replace("{file}", str(tmp_path / "integration.yaml"))
                for a in CONTENDERS[name]]
        contender = deskctl(tmp_path, state, *args)
        _out, err = contender.communicate(timeout=60)
        assert contender.returncode == 4, err
        assert f"pid {run.pid}" in err and "sync run" in err
    finally:
        os.kill(run.pid, signal.SIGCONT)
    _out, err = run.communicate(timeout=120)
    assert run.returncode == 0, err
    actions = audit_actions(state)
    assert actions[-1] == "sync.run"  # the refused change left no trace
    _backend, state, sync = opened(tmp_path, state)
    assert state.get("integration")["portal_name"] == "acme-support"
    assert state.get("sync")["paused"] is False and state.get("sync")["conflict"] == "newest"
    assert len(sync.pairs("Contacts")) == CONTACTS


def test_a_switch_waits_for_the_sync_and_pairs_never_mix_portals(
        tmp_path: Path, state: str) -> None:
    big_world(tmp_path, CONTACTS, 0, state)
    run = frozen_sync(tmp_path, state)
    switch = deskctl(tmp_path, state, "--lock-timeout", "120", "portal", "switch", "acme-labs",
                     "--yes")
    time.sleep(1.0)  # the switch is waiting for the lock now
    assert switch.poll() is None
    os.kill(run.pid, signal.SIGCONT)
    assert run.wait(timeout=120) == 0
    _out, err = switch.communicate(timeout=120)
    assert switch.returncode == 0, err
    assert audit_actions(state)[-2:] == ["sync.run", "portal.switch"]
    backend, _state, sync = opened(tmp_path, state)
    assert sync.pairs("Contacts") == {}  # the switch forgot the old portal's pairs
    after = deskctl(tmp_path, state, "-o", "json", "sync", "run")
    out, err = after.communicate(timeout=120)
    assert after.returncode == 0, err
    labs = next(p for p in backend.all_portals() if p.name == "acme-labs")
    labs_ids = {r.id for r in backend.desk(labs.id).list_records("contacts")}
    pairs = sync.pairs("Contacts")
    assert len(pairs) == CONTACTS and json.loads(out)["errors"] == 0
    assert {p.desk_id for p in pairs.values()} == labs_ids


def test_a_deactivation_waits_and_leaves_no_pairs_or_cursors(
        tmp_path: Path, state: str) -> None:
    big_world(tmp_path, CONTACTS, 0, state)
    run = frozen_sync(tmp_path, state)
    deactivate = deskctl(tmp_path, state, "--lock-timeout", "120", "integration", "deactivate",
                         "--yes")
    time.sleep(1.0)
    os.kill(run.pid, signal.SIGCONT)
    assert run.wait(timeout=120) == 0
    _out, err = deactivate.communicate(timeout=120)
    assert deactivate.returncode == 0, err
    _backend, _state, sync = opened(tmp_path, state)
    assert sync.link_counts() == {} and sync.all_cursors() == []


def test_a_terminated_run_is_recorded_as_interrupted(
        tmp_path: Path, state: str) -> None:
    big_world(tmp_path, CONTACTS, 0, state)
    run = running_sync(tmp_path, state)
    run.send_signal(signal.SIGTERM)
    _out, err = run.communicate(timeout=60)
    assert run.returncode == 130 and "Interrupted." in err, err
    [(outcome, finished)] = runs(state)
    assert outcome == "interrupted" and finished is not None


def test_a_killed_run_is_recorded_as_interrupted_by_the_next_one(
        tmp_path: Path, state: str) -> None:
    big_world(tmp_path, CONTACTS, 0, state)
    run = running_sync(tmp_path, state)
    run.kill()
    run.wait()
    assert runs(state) == [("running", None)]
    rerun = deskctl(tmp_path, state, "sync", "run")
    _out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    (killed, killed_end), (last, _end) = runs(state)
    assert killed == "interrupted" and killed_end is not None and last == "ok"
    status = deskctl(tmp_path, state, "-o", "json", "sync", "status")
    assert json.loads(status.communicate(timeout=60)[0])["last_run"]["outcome"] == "ok"
