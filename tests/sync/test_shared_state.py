"""Two hosts sharing only a PostgreSQL state database (and one sandbox file as the Zoho both
see): each host is a separate HOME; real `deskctl` processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.sync.conftest import make_world
from tests.sync.test_processes import assert_converged, big_world, lock_holder_pid, wait_for_holder


def host_env(root: Path, host: str, state: str) -> dict[str, str]:
    home = root / host
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DESKCTL_", "XDG_"))}
    env.update({"HOME": str(home), "DESKCTL_HOME": str(home / "data"),
                "DESKCTL_CONFIG_HOME": str(home / "config"), "DESKCTL_STATE": state,
                "DESKCTL_LOCAL_PATH": str(root / "zoho" / "sandbox.db"),
                "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"})
    return env


def deskctl(root: Path, host: str, state: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "deskctl", "-o", "json", *args],
                            env=host_env(root, host, state), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def no_state_files(root: Path) -> None:
    for host in ("host-a", "host-b"):
        written = [p for p in (root / host).rglob("*") if p.is_file()]
        assert not [p for p in written if p.suffix in (".db", ".lock") or "state" in p.name], \
            written


def test_the_second_host_sees_the_first_ones_integration_and_writes_nothing(
        tmp_path: Path, pg_url: str) -> None:
    world = make_world(tmp_path / "zoho", mode=None, state_at=pg_url)  # set up from host A
    for i in range(40):
        world.crm_create("Contacts", Last_Name=f"Crm {i}", Email=f"c{i}@x.example")
    world.backend.close()
    world.state.close()
    code, _out, err = finish(deskctl(tmp_path, "host-a", pg_url, "sync", "configure",
                                     "--mode", "bidirectional"))
    assert code == 0, err
    code, out, err = finish(deskctl(tmp_path, "host-a", pg_url, "sync", "run"))
    assert code == 0, err
    assert json.loads(out)["modules"]["Contacts"]["counts"]

    code, out, err = finish(deskctl(tmp_path, "host-b", pg_url, "integration", "status"))
    assert code == 0, err
    assert json.loads(out)["portal"]["name"] == "acme-support"
    code, out, err = finish(deskctl(tmp_path, "host-b", pg_url, "sync", "status"))
    assert code == 0, err
    assert json.loads(out)["pairs"] == {"Contacts": 40}
    code, out, err = finish(deskctl(tmp_path, "host-b", pg_url, "sync", "run"))
    assert code == 0, err
    report = json.loads(out)
    assert report["api_calls"]["crm_writes"] == report["api_calls"]["desk_writes"] == 0
    no_state_files(tmp_path)


def test_two_hosts_at_once_then_a_sigkilled_holder_is_taken_over(tmp_path: Path,
                                                                 pg_url: str) -> None:
    # 10,000 records: the holder still runs while the other host starts, twice
    big_world(tmp_path / "zoho", 10000, 0, pg_url)
    first = deskctl(tmp_path, "host-a", pg_url, "sync", "run")
    wait_for_holder(pg_url, first.pid)
    code, _out, err = finish(deskctl(tmp_path, "host-b", pg_url, "sync", "run",
                                     "--lock-timeout", "0"))
    assert code == 4
    assert f"pid {first.pid}" in err and "host " in err and "sync run" in err

    waiting = deskctl(tmp_path, "host-b", pg_url, "sync", "run", "--lock-timeout", "60")
    time.sleep(0.3)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    killed_at = time.monotonic()
    while lock_holder_pid(pg_url) != waiting.pid and waiting.poll() is None:
        assert time.monotonic() - killed_at < 5, "the waiting host did not take over in 5 s"
        time.sleep(0.02)
    code, _out, err = finish(waiting)
    assert code == 0, err
    assert_converged(tmp_path / "zoho", 10000, 0, pg_url)
    no_state_files(tmp_path)


def test_a_connection_lost_mid_run_ends_it_cleanly_and_another_host_resumes(
        tmp_path: Path, pg_url: str) -> None:
    import psycopg

    # 10,000 records: the run is still writing half a second after it took the lock (3,000
    # were all written by then once the local Desk wrote in batches of 100)
    big_world(tmp_path / "zoho", 10000, 0, pg_url)
    first = deskctl(tmp_path, "host-a", pg_url, "sync", "run")
    wait_for_holder(pg_url, first.pid)
    time.sleep(0.5)
    with psycopg.connect(pg_url, autocommit=True) as admin:  # the server drops the run
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE application_name = 'deskctl'")
    code, _out, err = finish(first)
    assert code == 1, err
    errors = [line for line in err.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "lost the" in errors[0], err
    code, _out, err = finish(deskctl(tmp_path, "host-b", pg_url, "sync", "run"))
    assert code == 0, err
    assert_converged(tmp_path / "zoho", 10000, 0, pg_url)
