"""`deskctl completion`: the script, sourced in a real bash, completes commands and the
names the local backend knows; on zoho it makes no request."""

from __future__ import annotations

import functools
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent  # the venv's deskctl, which the script calls

needs_bash = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")


@functools.cache
def bash_script() -> str:
    return subprocess.run([BIN / "deskctl", "completion", "bash"], capture_output=True,
                          text=True, check=True).stdout


def complete(*words: str, env: dict[str, str] | None = None) -> list[str]:
    """What bash offers for TAB after ``deskctl WORDS`` (the last word is being typed)."""
    script = bash_script()
    line = " ".join(f"'{w}'" for w in ("deskctl", *words))
    probe = (f'{script}\nCOMP_WORDS=({line}); COMP_CWORD={len(words)}\n'
             '_deskctl_completion deskctl\nprintf "%s\\n" "${COMPREPLY[@]}"\n')
    done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}",
                               **(env or {})})
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return [line for line in done.stdout.splitlines() if line]


@needs_bash
def test_bash_completes_commands_and_options() -> None:
    assert complete("sy") == ["sync"]
    assert sorted(complete("sync", "r")) == ["resolve", "resume", "run"]
    assert "--dry-run" in complete("sync", "run", "--d")
    assert complete("--backend", "") == ["local", "zoho"]


@needs_bash
def test_bash_completes_names_from_the_sandbox(seeded, tmp_path: Path) -> None:
    assert complete("portal", "connect", "acme") == ["acme-support", "acme-labs"]
    assert complete("sandbox", "desk", "list", "tickets", "--portal", "g") == ["globex-help"]
    assert complete("--as", "sam") == ["sam.sales@acme.example"]
    assert complete("users", "invite", "lena@acme.example", "p") == ["priya@acme.example"]
    assert complete("sandbox", "crm", "list", "P") == ["Partners", "Projects"]
    assert complete("ticket", "list", "--module", "con") == ["Contacts"]
    config = tmp_path / "deskctl.yaml"
    config.write_text("profiles:\n  staging: {}\n  production: {}\n")
    assert complete("--config", str(config), "--profile", "") == [
        "default", "staging", "production"]


@needs_bash
def test_no_sandbox_offers_nothing_and_creates_nothing() -> None:
    home = Path(os.environ["DESKCTL_HOME"])
    assert complete("portal", "connect", "") == []
    assert complete("--as", "") == []
    assert not home.exists() or not any(home.rglob("*.db"))


@needs_bash
def test_zoho_completion_makes_no_request(seeded) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.setblocking(False)
    url = f"http://127.0.0.1:{server.getsockname()[1]}"
    env = {"DESKCTL_BACKEND": "zoho", "DESKCTL_ZOHO_CRM_URL": url,
           "DESKCTL_ZOHO_DESK_URL": url, "DESKCTL_ZOHO_ACCOUNTS_URL": url}
    try:
        assert complete("ticket", "list", "--module", "De", env=env) == ["Deals"]
        assert complete("portal", "connect", "", env=env) == []
        assert complete("--as", "", env=env) == []
        with pytest.raises(BlockingIOError):
            server.accept()  # nobody connected
    finally:
        server.close()


def test_scripts_for_zsh_and_fish(run) -> None:
    zsh = run("completion", "zsh")
    assert zsh.exit_code == 0 and zsh.stdout.startswith("#compdef deskctl")
    fish = run("completion", "fish")
    assert fish.exit_code == 0 and "complete --no-files --command deskctl" in fish.stdout
    bad = run("completion", "tcsh")
    assert bad.exit_code == 2 and "'tcsh' is not one of 'bash', 'zsh', 'fish'" in bad.stderr
