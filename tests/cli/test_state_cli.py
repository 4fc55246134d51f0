"""`deskctl state check` and `deskctl state migrate` through the CLI, file and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deskctl.state import StateStore
from deskctl.state.transfer import counts, digest

STATE = Path("home") / "default" / "state.db"  # under the test's working directory


@pytest.fixture
def synced(seeded: Any) -> Any:
    """A state with every kind of row: settings, audit, pairs, cursors, errors, runs."""
    assert seeded("portal", "connect", "acme-support").exit_code == 0
    assert seeded("sync", "configure", "--mode", "bidirectional").exit_code == 0
    assert seeded("sync", "run").exit_code in (0, 3)  # 3: the seed's ambiguous duplicates
    return seeded


def snapshot(location: str | Path) -> dict[str, Any]:
    store = StateStore(location)
    try:
        return {t: (n, digest(store, t, store.db.columns(t))) for t, n in counts(store).items()}
    finally:
        store.close()


def test_check_reports_version_counts_and_ok(synced: Any) -> None:
    result = synced("state", "check", "-o", "json")
    assert result.exit_code == 0, result.stderr
    report = result.json()
    assert report["ok"] is True and report["problems"] == []
    assert report["schema_version"] == report["expected_version"]
    assert report["tables"]["sync_pairs"] > 0 and report["tables"]["audit"] >= 2


def test_check_of_a_damaged_file_fails_with_the_problem(synced: Any, tmp_path: Path) -> None:
    data = (tmp_path / STATE).read_bytes()
    (tmp_path / STATE).write_bytes(data[:4096] + b"\x00garbage" * 2000 + data[4096 + 16000:])
    for suffix in ("-wal", "-shm"):
        Path(str(tmp_path / STATE) + suffix).unlink(missing_ok=True)
    result = synced("state", "check")
    assert result.exit_code == 1
    assert "has problems" in result.stderr


def test_check_without_any_state_says_so(run: Any) -> None:
    result = run("state", "check")
    assert result.exit_code == 1 and "no state at" in result.stderr
    assert not STATE.exists()


def test_migrate_round_trip_file_postgres_file_is_identical(synced: Any, pg_url: str,
                                                          tmp_path: Path) -> None:
    before = snapshot(tmp_path / STATE)
    moved = synced("state", "migrate", "--to", pg_url, "-o", "json")
    assert moved.exit_code == 0, moved.stderr
    assert moved.json()["verified"] is True
    assert moved.json()["rows"] == sum(n for n, _ in before.values())
    assert snapshot(pg_url) == before

    again = synced("state", "migrate", "--to", pg_url)
    assert again.exit_code == 1 and "--force" in again.stderr
    assert snapshot(pg_url) == before

    on_pg = {"DESKCTL_STATE": pg_url}
    status = synced("sync", "status", "-o", "json", env=on_pg)
    assert status.exit_code == 0, status.stderr
    checked = synced("state", "check", "-o", "json", env=on_pg)
    assert checked.exit_code == 0, checked.stderr
    assert checked.json()["ok"] is True and checked.json()["tables"] == {
        t: n for t, (n, _) in before.items()}
    back = tmp_path / "back.db"
    returned = synced("state", "migrate", "--to", str(back), env=on_pg)
    assert returned.exit_code == 0, returned.stderr
    assert snapshot(back) == before

    # the copied state works: the next run continues where the first left off
    assert synced("sync", "run", env=on_pg).exit_code in (0, 3)
    assert snapshot(pg_url)["sync_pairs"] == before["sync_pairs"]


def test_migrate_force_replaces_a_non_empty_target(synced: Any, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    StateStore(other).put("stale", True)
    assert synced("state", "migrate", "--to", str(other)).exit_code == 1
    assert StateStore(other).get("stale") is True
    result = synced("state", "migrate", "--to", str(other), "--force", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert StateStore(other).get("stale") is None
    assert snapshot(other) == snapshot(tmp_path / STATE)


def test_migrate_refuses_a_password_in_the_target_url(synced: Any) -> None:
    result = synced("state", "migrate", "--to", "postgresql://u:pw@127.0.0.1:1/db")
    assert result.exit_code == 2
    assert "password does not belong" in result.stderr and "pw@" not in result.stderr


def test_migrate_exits_4_while_a_run_holds_the_lock(synced: Any, tmp_path: Path) -> None:
    before = snapshot(tmp_path / STATE)
    with StateStore(tmp_path / STATE).run_lock("sync run"):
        result = synced("state", "migrate", "--to", str(tmp_path / "x.db"))
    assert result.exit_code == 4 and "sync run" in result.stderr
    assert snapshot(tmp_path / STATE) == before
    assert counts(StateStore(tmp_path / "x.db")) == dict.fromkeys(before, 0)
