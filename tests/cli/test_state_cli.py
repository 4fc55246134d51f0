"""`deskctl state check` and `deskctl state migrate` through the CLI, file and PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import deskctl.state
from deskctl.state import StateStore
from deskctl.state.schema import JSON_COLUMNS
from deskctl.state.sync import SyncStore
from deskctl.state.transfer import counts, digest, expected_tables, primary_key

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


def test_json_columns_are_columns_of_the_schema_and_cover_every_decoded_one() -> None:
    schema = expected_tables()
    for table, columns in JSON_COLUMNS.items():
        assert set(columns) <= set(schema[table]), table
    listed = {c for columns in JSON_COLUMNS.values() for c in columns}
    decoded = set()  # the columns the state modules decode: row["..."] or a _cell of it
    for module in Path(deskctl.state.__file__).parent.glob("*.py"):
        for name in re.findall(r'(?:json\.loads|decode)\(\w+\[f?"([^"]+)"\]'
                               r'|_cell\(\w+, "\w+", f?"([^"]+)"\)', module.read_text()):
            name = "".join(name)
            decoded |= {name.replace("{side}", side) for side in ("crm", "desk")}
    assert decoded and decoded <= listed


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_check_names_every_json_cell_that_does_not_decode(synced: Any, tmp_path: Path,
                                                          database: str,
                                                          request: pytest.FixtureRequest) -> None:
    location: str | Path = tmp_path / STATE
    env: dict[str, str] = {}
    if database == "postgresql":
        location = request.getfixturevalue("pg_url")
        assert synced("state", "migrate", "--to", str(location)).exit_code == 0
        env = {"DESKCTL_STATE": str(location)}
    store = StateStore(location)
    sync = SyncStore(store)  # a conflict and an intent, so every JSON table has a row
    sync.add_conflict("Contacts", "c1", "d1", {"Email": ("a@x.example", "b@x.example")})
    sync.add_intents("Contacts", "crm", [("d2", {"Email": "c@x.example"}, ["email:c"], "fp")])
    assert synced("state", "check", env=env).exit_code == 0
    expected = []
    with store.transaction() as conn:
        for table, columns in JSON_COLUMNS.items():
            keys = primary_key(table)
            row = conn.execute(f"SELECT {', '.join(keys)} FROM {table} ORDER BY "
                               f"{', '.join(keys)} LIMIT 1").fetchone()
            where = " AND ".join(f"{k} = ?" for k in keys)
            for column in columns:
                conn.execute(f"UPDATE {table} SET {column} = ? WHERE {where}",
                             ('{"cut short', *row))
                named = ", ".join(f"{k}={v}" for k, v in zip(keys, row, strict=True))
                expected.append(f"{table}.{column} is not valid JSON in 1 row: ({named})")
    store.close()
    result = synced("state", "check", "-o", "json", env=env)
    assert result.exit_code == 1
    assert "has problems" in result.stderr
    assert result.json()["problems"] == expected
    assert all(line in result.stderr for line in expected)


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
