from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from deskctl.errors import LockHeld
from deskctl.sqlitefile import StoreError
from deskctl.state import StateStore
from deskctl.state.schema import SCHEMA_VERSION


def spawn(code: str, *args: str) -> subprocess.Popen[str]:
    """A real Python process running ``code``; it prints 'ready' when it reached the point."""
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line == "ready", (line, proc.stderr.read() if proc.stderr else "")
    return proc


def test_new_state_file_is_private_wal_and_versioned(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "sub" / "state.db")
    store.put("k", {"a": 1})
    assert store.get("k") == {"a": 1}
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(str(store.path) + "-wal").st_mode) == 0o600
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.schema_version == SCHEMA_VERSION


def test_older_file_is_migrated_and_newer_one_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 0")
    conn.close()
    assert StateStore(path).schema_version == SCHEMA_VERSION
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(StoreError, match="newer than this deskctl understands"):
        StateStore(path).get("k")


def test_transaction_rolls_back_everything_on_error(state_location: str) -> None:
    store = StateStore(state_location)
    store.put("kept", 1)
    with pytest.raises(RuntimeError), store.transaction():
        store.put("lost", 2)
        store.audit("me", "x")
        raise RuntimeError("boom")
    assert store.get("kept") == 1
    assert store.get("lost") is None
    assert store.audit_entries() == []


def test_audit_log_records_who_what_when(state_location: str, monkeypatch) -> None:
    monkeypatch.setenv("DESKCTL_NOW", "2026-01-02T03:04:05Z")
    store = StateStore(state_location)
    store.audit("ada@x.example", "portal.connect", "acme", {"how": "own"})
    store.audit("ada@x.example", "users.invite", "sam@x.example")
    entries = store.audit_entries()
    assert [e["action"] for e in entries] == ["users.invite", "portal.connect"]
    assert entries[1] == {"id": 1, "at": "2026-01-02T03:04:05Z", "actor": "ada@x.example",
                          "action": "portal.connect", "target": "acme",
                          "details": {"how": "own"}}
    assert len(store.audit_entries(limit=1)) == 1


def test_reset_integration_keeps_the_audit_log(state_location: str) -> None:
    store = StateStore(state_location)
    store.put("integration", {"status": "active"})
    store.audit("me", "x")
    store.reset_integration()
    assert store.get("integration") is None
    assert len(store.audit_entries()) == 1


HOLD = """
    import sys, time
    from deskctl.state import StateStore
    lock = StateStore(sys.argv[1]).run_lock("sync run")
    lock.acquire()
    print("ready", flush=True)
    time.sleep(float(sys.argv[2]))
    lock.release()
"""


def test_second_process_is_refused_naming_the_holder(state_location: str) -> None:
    holder = spawn(HOLD, state_location, "30")
    try:
        with pytest.raises(LockHeld) as err:
            StateStore(state_location).run_lock("sync run", timeout=0.3).acquire()
        assert f"pid {holder.pid}" in err.value.message
        assert "sync run" in err.value.message and "host" in err.value.message
        assert err.value.exit_code == 4
    finally:
        holder.kill()
        holder.wait()


def test_waiting_process_gets_the_lock_when_released(state_location: str) -> None:
    holder = spawn(HOLD, state_location, "0.5")
    start = time.monotonic()
    with StateStore(state_location).run_lock("apply", timeout=10) as lock:
        assert lock.holder()["pid"] == os.getpid()  # type: ignore[index]
    assert time.monotonic() - start < 9
    holder.wait()


def test_lock_of_a_killed_holder_is_taken_over(state_location: str) -> None:
    holder = spawn(HOLD, state_location, "30")
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    # the server notices the closed socket at once; give it a moment to drop the session
    with StateStore(state_location).run_lock("sync run", timeout=5) as lock:
        assert lock.holder()["operation"] == "sync run"  # type: ignore[index]
        assert lock.holder()["pid"] == os.getpid()  # type: ignore[index]


def test_sigkill_mid_transaction_leaves_a_readable_store(state_location: str) -> None:
    state = state_location
    store = StateStore(state)
    store.put("before", "committed")
    store.close()
    writer = spawn("""
        import sys, time
        from deskctl.state import StateStore
        store = StateStore(sys.argv[1])
        with store.transaction():
            for i in range(1000):
                store.put(f"k{i}", i)
                store.audit("writer", "write", str(i))
            print("ready", flush=True)
            time.sleep(30)
    """, state)
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    reopened = StateStore(state)
    assert reopened.db.integrity() == []
    assert reopened.get("before") == "committed"
    assert reopened.get("k0") is None
    assert reopened.audit_entries() == []
    reopened.put("after", True)
    assert reopened.get("after") is True
