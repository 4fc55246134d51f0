"""Our errors everywhere (issue 13 item 11): damaged or unusable files and keyrings give one
clear line naming the file and what to do, with exit 1 (5 for the keyring), and nothing is
re-initialised or lost."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

STATE_HINT = "restore it from a backup"


@pytest.fixture
def state_db(seeded, tmp_path: Path) -> Path:
    assert seeded("portal", "connect", "acme-support").exit_code == 0
    path = tmp_path / "home" / "default" / "state.db"
    assert path.is_file()
    return path


def _sql(path: Path, statement: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute(statement)
    conn.commit()
    conn.close()


def _one_error_line(result, *needles: str) -> None:
    assert result.exit_code == 1, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for needle in needles:
        assert needle in lines[0]
    assert "unexpected" not in lines[0]


@pytest.mark.parametrize("command", [("sync", "status"), ("audit",), ("integration", "status"),
                                     ("users", "list")])
def test_a_dropped_table_names_the_file_and_what_to_do(seeded, state_db, command) -> None:
    _sql(state_db, "DROP TABLE audit")
    _one_error_line(seeded(*command), str(state_db), "damaged", "table audit missing",
                    STATE_HINT, "deskctl state check")


def test_bad_json_in_a_setting_names_the_setting(seeded, state_db) -> None:
    _sql(state_db, "UPDATE settings SET value = '{broken' WHERE key = 'integration'")
    _one_error_line(seeded("integration", "status"), str(state_db),
                    "setting 'integration' is not valid JSON", STATE_HINT)


def test_a_zero_byte_state_file_is_an_error_and_stays_as_it_was(seeded, state_db) -> None:
    for suffix in ("-wal", "-shm"):
        Path(str(state_db) + suffix).unlink(missing_ok=True)
    state_db.write_bytes(b"")
    for _ in range(2):  # not re-initialised by the first attempt
        _one_error_line(seeded("audit"), str(state_db), "empty, 0 bytes", STATE_HINT)
        assert state_db.stat().st_size == 0


def test_garbage_in_the_state_file(seeded, state_db) -> None:
    for suffix in ("-wal", "-shm"):
        Path(str(state_db) + suffix).unlink(missing_ok=True)
    state_db.write_bytes(b"this is not sqlite at all" * 400)
    _one_error_line(seeded("sync", "status"), str(state_db), "file is not a database")


def test_a_damaged_sandbox_file_points_at_sandbox_reset(seeded, tmp_path) -> None:
    sandbox = tmp_path / "home" / "default" / "sandbox.db"
    _sql(sandbox, "DROP TABLE portals")
    _one_error_line(seeded("portal", "list"), str(sandbox), "sandbox reset --yes")


def test_the_state_file_is_created_whole(run, tmp_path) -> None:
    assert run("audit").exit_code == 0
    folder = tmp_path / "home" / "default"
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []
    conn = sqlite3.connect(folder / "state.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] > 0
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make ``path`` unwritable even for root (the immutable attribute), else chmod."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot make {path} read-only as root: {done.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_read_only_state_file_still_answers_reads(seeded, state_db) -> None:
    assert seeded("sync", "configure", "--mode", "one-way").exit_code == 0
    before = state_db.read_bytes()
    with read_only(state_db):
        status = seeded("sync", "status", "-o", "json")
        assert status.exit_code == 0, status.stderr
        assert status.json()["mode"] == "one-way"
        assert seeded("audit", "--limit", "1").exit_code == 0
        assert seeded("integration", "status").exit_code == 0
        _one_error_line(seeded("sync", "pause"), f"cannot write the state file {state_db}",
                        "read-only")
    assert state_db.read_bytes() == before


def test_a_read_only_home_is_one_clear_line(run, tmp_path, monkeypatch) -> None:
    home = tmp_path / "readonly-home"
    home.mkdir()
    monkeypatch.setenv("DESKCTL_HOME", str(home / "deskctl"))
    with read_only(home):
        _one_error_line(run("sandbox", "seed"), str(home / "deskctl"))
        _one_error_line(run("audit"), str(home / "deskctl"))
        _one_error_line(run("config", "init", "--path", str(home / "c.yaml")),
                        str(home / "c.yaml"))


def test_a_binary_config_file(run, tmp_path) -> None:
    config = tmp_path / "deskctl.yaml"
    config.write_bytes(bytes(range(256)) * 4)
    _one_error_line(run("config", "show"), "config file deskctl.yaml", "not a UTF-8 text file")
    folder = tmp_path / "conf.d"
    folder.mkdir()
    _one_error_line(run("--config", str(folder), "config", "show"), str(folder))


def test_attach_a_directory_says_so(seeded, tmp_path) -> None:
    assert seeded("portal", "connect", "acme-support").exit_code == 0
    contact = seeded("sandbox", "crm", "list", "Contacts", "-o", "json").json()[0]["id"]
    before = seeded("sandbox", "desk", "list", "tickets", "-o", "json").json()
    result = seeded("ticket", "create", "--module", "Contacts", "--record", contact,
                    "--subject", "x", "--new-contact", "A B <a@b.example>", "--attach",
                    str(tmp_path))
    _one_error_line(result, str(tmp_path), "is a directory")
    assert seeded("sandbox", "desk", "list", "tickets", "-o", "json").json() == before


@pytest.fixture
def plaintext_keyring(tmp_path, monkeypatch) -> Iterator[object]:
    import keyring
    from keyrings.alt.file import PlaintextKeyring

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    previous = keyring.get_keyring()
    real = PlaintextKeyring()
    keyring.set_keyring(real)
    yield real
    keyring.set_keyring(previous)


def test_a_plaintext_file_keyring_is_marked_and_not_used(run, plaintext_keyring: Any) -> None:
    status = run("auth", "status", "-o", "json")
    assert status.exit_code == 0, status.stderr
    keyring = status.json()["keyring"]
    assert keyring["backend"] == "PlaintextKeyring" and keyring["used"] is False
    assert "unencrypted plaintext file" in keyring["note"]
    table = run("auth", "status")
    assert "unencrypted plaintext file" in table.stdout
    assert "Keyring not used" in table.stderr
    result = run("auth", "set", "zsc_key", input="secret-value\n")
    assert result.exit_code == 5
    assert "not a secure keyring" in result.stderr and "DESKCTL_ZSC_KEY" in result.stderr
    assert not Path(plaintext_keyring.file_path).exists()


def test_auth_set_checks_the_keyring_before_asking(run, monkeypatch) -> None:
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        # the secret given on stdin stays unread: the refusal comes first
        result = run("auth", "set", "zoho_refresh_token", input="")
    finally:
        keyring.set_keyring(previous)
    assert result.exit_code == 5
    assert "no usable keyring" in result.stderr
    assert "no zoho refresh token given" not in result.stderr


@pytest.mark.parametrize("table, column, command", [
    ("sync_pairs", "base", ("sync", "run")),
    ("sync_conflicts", "fields", ("sync", "conflicts")),
    ("sync_runs", "summary", ("sync", "status")),
])
def test_bad_json_in_a_sync_row_says_the_state_is_damaged(seeded, state_db, table, column,
                                                           command) -> None:
    assert seeded("sync", "configure", "--mode", "bidirectional",
                  "--conflict", "manual").exit_code == 0
    assert seeded("sync", "run").exit_code in (0, 3)
    if table == "sync_conflicts":  # one conflict, made the way a human makes it
        _sql(state_db, "INSERT INTO sync_conflicts(module, crm_id, desk_id, fields, "
             "crm_values, desk_values, detected_at) VALUES ('Contacts', '1', '2', "
             "'[\"email\"]', '{}', '{}', '2026-01-01T00:00:00Z')")
    _sql(state_db, f"UPDATE {table} SET {column} = '{{broken'")
    before = _rows(state_db)
    _one_error_line(seeded(*command), str(state_db), "damaged", "deskctl state check")
    after = _rows(state_db)
    added = after.pop("sync_runs")[len(before["sync_runs"]):]
    before.pop("sync_runs")
    assert after == before  # nothing changed; a run only records that it failed
    assert [run[3] for run in added] == (["failed"] if command == ("sync", "run") else [])


def _rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(path)
    try:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = "
                                             "'table' AND name != 'sqlite_sequence'")]
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall()
                for t in tables}
    finally:
        conn.close()
