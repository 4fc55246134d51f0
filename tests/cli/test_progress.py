"""Live status of long work: on a terminal's stderr only, never with -q or when piped;
and the bound on `sandbox seed` counts."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import tempfile

import pytest


def deskctl(*args: str, terminal: bool) -> tuple[int, str, str]:
    """Run deskctl in a subprocess with stderr on a pseudo-terminal (or a pipe):
    (exit code, stdout, stderr)."""
    command = [sys.executable, "-m", "deskctl", *args]
    if not terminal:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)
        return done.returncode, done.stdout, done.stderr
    master, slave = pty.openpty()
    # stdout to a file, not a pipe: a long stdout must not block the child
    with tempfile.TemporaryFile() as stdout:
        proc = subprocess.Popen(command, stdout=stdout, stderr=slave,
                                stdin=subprocess.DEVNULL)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        os.close(master)
        code = proc.wait(timeout=120)
        stdout.seek(0)
        return code, stdout.read().decode(), b"".join(chunks).decode()


@pytest.fixture
def configured(seeded):
    assert seeded("portal", "connect", "acme-support").exit_code == 0
    assert seeded("sync", "configure", "--mode", "bidirectional").exit_code == 0
    return seeded


def test_sync_phases_show_on_a_terminal(configured) -> None:
    code, stdout, terminal = deskctl("sync", "run", terminal=True)
    assert code == 0, terminal
    for module in ("Accounts", "Contacts"):
        assert re.search(rf"Reading {module}: crm \d+, desk \d+, deleted \d+", terminal)
        assert f"Matching {module}" in terminal and f"Planning {module}" in terminal
    assert re.search(r"Writing \[#{20}\] (\d+)/\1 \(100%\)", terminal)
    # the status line is cleared before the summary, which stays
    assert "\r\x1b[KDone:" in terminal.replace("\r\n", "\n")
    assert "MODULE" in stdout and "Reading" not in stdout


def test_no_status_when_piped_or_quiet(configured) -> None:
    code, _out, stderr = deskctl("sync", "run", "--dry-run", terminal=False)
    assert code == 0 and "Plan:" in stderr
    assert "Reading" not in stderr and "\x1b[K" not in stderr
    code, _out, terminal = deskctl("-q", "sync", "run", terminal=True)
    assert code == 0
    assert "Reading" not in terminal and "Writing" not in terminal


def test_seed_shows_counts_on_a_terminal_only() -> None:
    code, stdout, terminal = deskctl("sandbox", "seed", "--contacts", "40", terminal=True)
    assert code == 0, terminal
    assert re.search(r"Seeding: Accounts \d+, Contacts \d+", terminal)
    assert "Contacts" in stdout and "Seeding" not in stdout
    code, _out, stderr = deskctl("sandbox", "seed", terminal=False)
    assert code == 0 and "Seeding" not in stderr


def test_seed_refuses_absurd_counts_without_force(run) -> None:
    result = run("sandbox", "seed", "--contacts", "1000001")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "Error: --contacts 1,000,001 is more than 1,000,000; add --force if you mean it "
        "(it needs disk space and time)"]
    assert result.stdout == ""
    assert run("sandbox", "info", "-o", "json").json()["crm_records"] == {}
    # --force passes the bound (tickets need contacts: with none, none are made, quickly)
    few = ("--accounts", "0", "--contacts", "0", "--leads", "0", "--deals", "0")
    assert run("sandbox", "seed", *few, "--tickets", "2000000").exit_code == 2
    forced = run("sandbox", "seed", *few, "--tickets", "2000000", "--force", "-o", "json")
    assert forced.exit_code == 0, forced.stderr
