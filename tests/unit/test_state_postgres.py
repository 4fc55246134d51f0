"""What only the PostgreSQL store does: profiles side by side in one database, its schema
version, a lost connection, passwords kept out of the URL, the missing-driver message."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import psycopg
import pytest

from deskctl.config import load_config
from deskctl.errors import ConfigError, LockHeld
from deskctl.models.sync import Pair
from deskctl.sqlitefile import StoreError
from deskctl.state import StateStore, dialect
from deskctl.state.schema import SCHEMA_VERSION
from deskctl.state.sync import SyncStore
from tests.pgserver import PASSWORD_ROLE, schema_at


def test_profiles_share_a_database_but_not_their_rows(pg_url: str) -> None:
    acme, globex = StateStore(pg_url, "acme"), StateStore(pg_url, "globex")
    acme.put("integration", {"portal": "acme"})
    SyncStore(acme).save_pairs([Pair("Contacts", "c1", "d1", {"Last_Name": "Ada"})])
    assert SyncStore(acme).pairs("Contacts")["c1"].base == {"Last_Name": "Ada"}
    assert globex.get("integration") is None
    assert SyncStore(globex).pairs("Contacts") == {}
    globex.put("integration", {"portal": "globex"})
    assert acme.get("integration") == {"portal": "acme"}
    with acme.run_lock("sync run"):  # each profile has its own run lock
        with globex.run_lock("sync run"):
            pass
        with pytest.raises(LockHeld):
            StateStore(pg_url, "acme").run_lock("apply", 0).acquire()


def test_schema_is_versioned_and_a_newer_one_refused(pg_url: str) -> None:
    store = StateStore(pg_url)
    assert store.schema_version == SCHEMA_VERSION
    store.close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE deskctl_default.deskctl_meta SET value = %s "
                     "WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    with pytest.raises(StoreError, match="newer than this deskctl understands"):
        StateStore(pg_url).get("k")


def test_an_older_schema_is_migrated_forward(pg_url: str) -> None:
    older = SCHEMA_VERSION - 1
    with schema_at(pg_url, older) as conn:  # as the previous deskctl left it
        conn.execute("INSERT INTO settings (key, value) VALUES ('kept', '1')")
    reopened = StateStore(pg_url)
    assert reopened.schema_version == SCHEMA_VERSION
    assert reopened.get("kept") == 1
    expected = StateStore(pg_url, "fresh")
    for table in expected.db.tables():
        assert reopened.db.columns(table) == expected.db.columns(table), table


def test_a_lost_connection_ends_cleanly_and_commits_nothing(pg_url: str) -> None:
    store = StateStore(pg_url)
    store.put("before", 1)
    pid = store.conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    with pytest.raises(StoreError, match="lost the state database"), store.transaction():
        store.put("half", 1)
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        store.put("written", 2)
        store.get("half")
    fresh = StateStore(pg_url)
    assert fresh.get("before") == 1
    assert fresh.get("half") is None and fresh.get("written") is None


def test_a_holder_whose_lock_session_died_stops_before_writing(pg_url: str) -> None:
    store = StateStore(pg_url)
    lock = store.run_lock("sync run")
    lock.acquire()
    lock_pid = lock._conn.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[attr-defined]
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (lock_pid,))
    lock._checked = 0.0  # type: ignore[attr-defined]  # don't wait for the periodic check
    with pytest.raises(StoreError, match="lost the run lock"):
        store.put("k", 1)
    assert StateStore(pg_url).get("k") is None
    lock.release()


def test_a_password_in_the_url_is_refused_and_never_echoed(tmp_path: Any) -> None:
    config = tmp_path / "deskctl.yaml"
    config.write_text("state: postgresql://ci:hunter2@db.example:5432/deskctl\n")
    with pytest.raises(ConfigError) as err:
        load_config(str(config))
    text = str(err.value.problems)
    assert "a password does not belong in the state URL" in text and "hunter2" not in text


def test_the_password_comes_from_pgpassword_or_the_keyring(
        pg_url: str, isolated: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {PASSWORD_ROLE} LOGIN SUPERUSER PASSWORD 's3cret'")
    url = pg_url.replace("postgres@", f"{PASSWORD_ROLE}@")
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))
    with pytest.raises(StoreError, match="cannot connect to the state database") as err:
        StateStore(url).get("k")
    assert "s3cret" not in err.value.message
    monkeypatch.setenv("PGPASSWORD", "s3cret")
    StateStore(url).put("k", "via PGPASSWORD")
    monkeypatch.delenv("PGPASSWORD")
    isolated.set_password("deskctl", "default:pg_password", "s3cret")
    assert StateStore(url).get("k") == "via PGPASSWORD"


def test_without_psycopg_a_postgresql_url_says_what_to_install(tmp_path: Any) -> None:
    env = {**os.environ, "DESKCTL_STATE": "postgresql://ci@127.0.0.1:1/deskctl",
           "DESKCTL_HOME": str(tmp_path)}
    code = ("import sys; sys.modules['psycopg'] = None\n"
            "from deskctl.cli import main; sys.argv = ['deskctl', 'audit']; main()")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "Error: the state is on PostgreSQL but its driver is not installed: "
        "pip install 'deskctl[postgres]'"]
    assert not list(tmp_path.rglob("state.db"))


def test_dialect_translates_placeholders_and_sqlite_types_only() -> None:
    assert dialect.query("SELECT * FROM t WHERE a = ? AND b LIKE '50%?' AND c = ?") == (
        "SELECT * FROM t WHERE a = %s AND b LIKE '50%%?' AND c = %s")
    assert dialect.query("INSERT OR IGNORE INTO t (a) VALUES (?)") == (
        "INSERT INTO t (a) VALUES (%s) ON CONFLICT DO NOTHING")
    assert dialect.ddl("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER, "
                       "r REAL, s TEXT)") == (
        "CREATE TABLE t (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, n BIGINT, "
        "r DOUBLE PRECISION, s TEXT)")
