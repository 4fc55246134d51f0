"""The zoho backend against `sandbox serve` over real loopback sockets."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from deskctl.backends.local import LocalBackend
from deskctl.backends.local.emulator import Reply
from deskctl.backends.local.seed import SeedCounts, seed
from deskctl.backends.local.server import Faults, make_server
from deskctl.backends.zoho import ZohoBackend
from deskctl.backends.zoho.auth import TokenProvider
from deskctl.errors import UsageError
from tests.backends.contract import BackendContract, World
from tests.zoho.conftest import serving, settings, zoho_env


def served(tmp_path: Path, faults: Faults) -> Iterator[tuple[str, LocalBackend]]:
    sandbox = LocalBackend(tmp_path / "served.db")
    seed(sandbox, SeedCounts(0, 0, 0, 0, 0), random_seed=1)
    with serving(sandbox, faults) as server:
        yield server.urls[0], sandbox


def backend_for(url: str, credentials, tmp_path: Path, **overrides) -> ZohoBackend:
    config = settings(crm_url=url, desk_url=url, accounts_url=url, **overrides)
    return ZohoBackend(config, TokenProvider(url, credentials, tmp_path / "token.json"))


class TestServedZoho(BackendContract):
    @pytest.fixture
    def world(self, tmp_path: Path, zoho_credentials) -> Iterator[World]:
        for url, sandbox in served(tmp_path, Faults()):
            other = next(p for p in sandbox.sandbox_info()["portals"]
                         if p["name"] == "globex-help")
            yield World(backend_for(url, zoho_credentials, tmp_path), other["admin"],
                        other["zsc_key"])


def test_faults_are_retried_but_creates_are_never_resent(tmp_path: Path,
                                                         zoho_credentials) -> None:
    from deskctl.errors import BackendError

    for url, sandbox in served(tmp_path, Faults(error_rate=0.3, rate_limit=200, seed=4)):
        backend = backend_for(url, zoho_credentials, tmp_path, retries=10)
        created = failed = 0
        for i in range(30):
            try:
                [result] = backend.crm.create_records("Accounts", [{"Account_Name": f"F{i}"}])
                created += result.ok
            except BackendError as exc:
                assert "Zoho answered 503" in exc.message
                failed += 1
        assert created and failed  # the faults happened, and creates were not resent
        listed = list(backend.crm.list_records("Accounts"))  # GETs are retried through
        assert len(listed) == created == len(list(sandbox.crm.list_records("Accounts")))


def _round_trips(url: str, count: int, path: str = "/crm/v8/users") -> list[float]:
    """Seconds from sending each request to having its whole answer, over one keep-alive
    connection (a real socket), or to the connection's close when the server drops it."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", int(url.rsplit(":", 1)[1]), timeout=5)
    times = []
    try:
        for _ in range(count):
            started = time.monotonic()
            try:
                conn.request("GET", path)
                conn.getresponse().read()
            except (ConnectionError, http.client.RemoteDisconnected):
                conn.close()
            times.append(time.monotonic() - started)
    finally:
        conn.close()
    return times


def test_no_answer_arrives_before_the_latency(tmp_path: Path) -> None:
    """`--latency-ms` is Zoho's round trip as a client sees it: every answer, a fault's
    too (503, a dropped connection), comes no sooner than that after its request."""
    sandbox = LocalBackend(tmp_path / "served.db")
    seed(sandbox, SeedCounts(0, 0, 0, 0, 0), random_seed=1)
    with serving(sandbox, Faults(latency_ms=150), Faults(latency_ms=150, error_rate=1.0),
                 Faults(latency_ms=150, drop_rate=1.0)) as served_:
        for url in served_.urls:
            assert min(_round_trips(url, 4)) >= 0.15


class SlowEmulator:
    """Stands in for the emulator: every answer takes ``seconds`` to make."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def handle(self, method: str, url: str, headers: dict[str, str],
               body: bytes | None) -> Reply:
        time.sleep(self.seconds)
        return Reply(200, {"users": []})


def test_work_slower_than_the_latency_is_not_delayed_further(tmp_path: Path) -> None:
    """The emulator's own work comes out of the latency, not on top of it: an answer that
    takes 0.4 s to make leaves when it is made, not a further 0.3 s later; one made at once
    still waits the 0.3 s."""
    for work, low, high in ((0.4, 0.4, 0.65), (0.0, 0.3, 0.55)):
        server = make_server(SlowEmulator(work), "127.0.0.1", 0,  # type: ignore[arg-type]
                             Faults(latency_ms=300))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            times = _round_trips(f"http://127.0.0.1:{server.server_address[1]}", 3)
        finally:
            server.shutdown()
            server.server_close()
        assert all(low <= t < high for t in times), (work, times)


def test_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    for url, _sandbox in served(tmp_path, Faults(rate_limit=2)):
        statuses = [requests.get(url + "/crm/v8/users", timeout=5) for _ in range(6)]
        limited = [r for r in statuses if r.status_code == 429]
        assert limited and limited[0].headers["Retry-After"] == "1"


def test_serve_refuses_non_loopback_hosts() -> None:
    with pytest.raises(UsageError, match="loopback addresses only"):
        make_server(None, "0.0.0.0", 0, Faults())  # type: ignore[arg-type]


def test_the_serve_command_prints_where_it_listens(tmp_path: Path) -> None:
    env = {"DESKCTL_HOME": str(tmp_path), "PATH": "/usr/bin:/bin",
           "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    subprocess.run([sys.executable, "-m", "deskctl", "sandbox", "seed", "-q"], env=env,
                   check=True, capture_output=True)
    proc = subprocess.Popen([sys.executable, "-m", "deskctl", "sandbox", "serve", "--port",
                             "0"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert line.startswith("Serving the sandbox as Zoho at http://127.0.0.1:")
        url = line.split(" at ")[1].split(" ")[0]
        token = requests.post(url + "/oauth/v2/token", data={
            "grant_type": "refresh_token", "client_id": "a", "client_secret": "b",
            "refresh_token": "c"}, timeout=5).json()["access_token"]
        users = requests.get(url + "/crm/v8/users", params={"type": "CurrentUser"},
                             headers={"Authorization": f"Zoho-oauthtoken {token}"}, timeout=5)
        assert users.json()["users"][0]["email"] == "admin@acme.example"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_served_daily_limit_ends_a_sync_with_exit_7(tmp_path: Path, zoho_credentials,
                                                        run) -> None:
    """Over real sockets: `sandbox serve --daily-limit` answers as Zoho does once the
    credits are spent, and `sync run` stops with exit 7 (the message says when they reset)."""
    for url, sandbox in served(tmp_path, Faults(daily_limit=40)):
        sandbox.crm.create_records("Contacts", [{"Last_Name": f"S{i}",
                                                 "Email": f"s{i}@x.example"}
                                                for i in range(60)])
        env = zoho_env(url)
        assert run("portal", "connect", "acme-support", env=env).exit_code == 0
        assert run("sync", "configure", "--mode", "one-way", env=env).exit_code == 0
        result = run("sync", "run", env=env)
        assert result.exit_code == 7, result.stderr
        assert "THRESHOLD_EXCEEDED" in result.stderr and "the limit resets" in result.stderr
        portal = next(p for p in sandbox.all_portals() if p.name == "acme-support").id
        assert 0 < len(list(sandbox.desk(portal).list_records("contacts"))) < 60


def test_stats_signals_and_history_over_sockets(tmp_path: Path, zoho_credentials,
                                                run) -> None:
    """Ratings (customerHappiness) and history with an escalation (History) over real
    sockets, every request and answer checked: stats, signals list and ticket history."""
    for url, sandbox in served(tmp_path, Faults()):
        env = zoho_env(url)
        assert run("portal", "connect", "acme-support", env=env).exit_code == 0
        portal = next(p for p in sandbox.all_portals() if p.name == "acme-support").id
        desk = sandbox.desk(portal)
        sandbox.crm.create_records("Contacts", [{"Last_Name": "Ng", "Email": "ng@x.example"}])
        contact = desk.create_record("contacts", {"lastName": "Ng", "email": "ng@x.example"})
        ticket = desk.create_record("tickets", {"subject": "Down", "contactId": contact.id,
                                                "departmentId": desk.departments()[0]["id"]})
        desk.add_ticket_event(ticket.id, "rating", "ng@x.example", {"rating": "bad"})
        desk.update_record("tickets", ticket.id, {"status": "Escalated"})
        stats = run("stats", "-o", "json", env=env)
        assert stats.exit_code == 0, stats.stderr
        assert stats.json()["ratings"] == {"good": 0, "okay": 0, "bad": 1}
        signals = run("signals", "list", "-o", "json", env=env).json()
        assert sorted(s["kind"] for s in signals) == ["new-rating", "new-ticket",
                                                      "ticket-escalated"]
        history = run("ticket", "history", ticket.id, "-o", "json", env=env).json()
        assert {"field": "status", "old": "Open", "new": "Escalated"} in [
            {k: r[k] for k in ("field", "old", "new")} for r in history]


def test_lost_create_answers_are_carried_out_and_never_resent(tmp_path: Path,
                                                              zoho_credentials) -> None:
    """`--lost-create-rate`: the create is made, then its answer is lost (connection dropped
    or 504); the client reports a lost answer once, never resends, and reads still work."""
    from deskctl.errors import BackendError

    for url, sandbox in served(tmp_path, Faults(lost_create_rate=1.0, seed=3)):
        backend = backend_for(url, zoho_credentials, tmp_path)
        portal = next(p for p in sandbox.all_portals() if p.name == "acme-support").id
        messages = set()
        for i in range(8):
            with pytest.raises(BackendError) as crm_error:
                backend.crm.create_records("Accounts", [{"Account_Name": f"L{i}"}])
            with pytest.raises(BackendError) as desk_error:
                backend.desk(portal).create_record("contacts", {"lastName": f"L{i}"})
            messages |= {crm_error.value.message.split(": ", 1)[1],
                         desk_error.value.message.split(": ", 1)[1]}
        assert {m.split(" ")[0] for m in messages} == {"connection", "Zoho"}  # both kinds
        assert len(list(backend.crm.list_records("Accounts"))) == 8  # each made once
        assert len(list(sandbox.desk(portal).list_records("contacts"))) == 8


def test_a_client_gone_mid_request_is_no_error(tmp_path: Path, capfd: pytest.CaptureFixture[str]
                                               ) -> None:
    """A killed sync leaves its request behind: the server's answer meets a reset
    connection, which is the client's business, not a traceback on the server's stderr."""
    import socket
    import struct

    for url, _sandbox in served(tmp_path, Faults(latency_ms=200)):
        sock = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])))
        sock.sendall(b"GET /crm/v8/users HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()  # a reset, as when the process is killed
        time.sleep(0.6)  # the server answers after its latency, into the reset
        assert requests.get(url + "/crm/v8/users", timeout=5).status_code == 401  # still up
    assert "Traceback" not in capfd.readouterr().err


def test_a_request_cut_short_is_not_carried_out(tmp_path: Path,
                                                capfd: pytest.CaptureFixture[str]) -> None:
    """A client killed while sending its body: the server acts on no half request (and
    prints nothing), as Zoho would never see it whole."""
    import socket

    for url, sandbox in served(tmp_path, Faults()):
        body = b'{"lastName": "Half", "email": "half@x.example"}'
        sock = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])))
        sock.sendall(b"POST /api/v1/contacts HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\n"
                     + f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:10])
        sock.close()
        time.sleep(0.3)
        portal = next(p for p in sandbox.all_portals() if p.name == "acme-support").id
        assert list(sandbox.desk(portal).list_records("contacts")) == []
    assert "Traceback" not in capfd.readouterr().err
