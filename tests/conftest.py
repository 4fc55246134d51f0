"""Every test runs in its own home: no user config, no real keyring, no fixed clock."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keyring
import pytest
from click.testing import CliRunner
from keyring.backend import KeyringBackend

from deskctl.cli import cli


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    for name in list(os.environ):
        if name.startswith("DESKCTL_"):
            monkeypatch.delenv(name)
    monkeypatch.delenv("COLUMNS", raising=False)  # tables are whole unless a test sets it
    monkeypatch.setenv("DESKCTL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DESKCTL_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    monkeypatch.chdir(tmp_path)
    memory = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(memory)
    yield memory
    keyring.set_keyring(previous)


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        import json

        return json.loads(self.stdout)


@pytest.fixture
def run() -> Any:
    """Run deskctl in-process: run("portal", "list", input=...) -> Result."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        result = runner.invoke(cli, list(args), input=input, env=env, catch_exceptions=False)
        return Result(result.exit_code, result.stdout, result.stderr)

    return invoke


@pytest.fixture
def seeded(run: Any) -> Any:
    result = run("sandbox", "seed")
    assert result.exit_code == 0, result.stderr
    return run


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """A PostgreSQL server for the session (tests/pgserver.py); skipped when none can be
    started, except under DESKCTL_REQUIRE_POSTGRES=1 (CI), where that fails the test."""
    from tests.pgserver import PgServer, find_bindir

    def unavailable(reason: str) -> None:
        if os.environ.get("DESKCTL_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL tests required but {reason}")
        pytest.skip(reason)

    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("psycopg is not installed (pip install -e '.[test]')")
    bindir = find_bindir()
    if bindir is None:
        unavailable("no PostgreSQL binaries (initdb, pg_ctl, postgres) found")
    server = PgServer(bindir)  # type: ignore[arg-type]
    try:
        server.start()
    except (OSError, RuntimeError) as exc:
        server.stop()
        unavailable(f"PostgreSQL did not start: {exc}")
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server: Any) -> str:
    """The URL of a fresh, empty PostgreSQL database."""
    return str(pg_server.new_database())


@pytest.fixture(params=["sqlite", "postgresql"])
def state_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a test's state lives: a file, then a PostgreSQL database (contract tests)."""
    if request.param == "sqlite":
        return str(tmp_path / "state.db")
    return str(request.getfixturevalue("pg_url"))
