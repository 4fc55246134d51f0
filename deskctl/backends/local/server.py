"""`deskctl sandbox serve`: the sandbox as an offline Zoho on a loopback socket, with fault
injection (latency, 429 over a rate, 5xx, dropped connections, a daily API limit, creates
carried out whose answer is lost) to test scripts against."""

from __future__ import annotations

import ipaddress
import json
import random
import re
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from deskctl.backends.local.emulator import Emulator
from deskctl.errors import UsageError


@dataclass(frozen=True)
class Faults:
    #: Zoho's round trip as a client sees it: every answer (a fault's too) leaves this long
    #: after its request arrived, the emulator's own work included, never sooner
    latency_ms: float = 0.0
    error_rate: float = 0.0  # share of requests answered 503
    rate_limit: float = 0.0  # requests per second before 429 (0: no limit)
    drop_rate: float = 0.0  # share of connections closed without an answer
    seed: int | None = None
    daily_limit: int = 0  # API calls per service before Zoho's daily-limit answer (0: none)
    lost_create_rate: float = 0.0  # share of creates carried out whose answer never arrives


#: a create: POST to a CRM module (Insert Records, crm/v8) or to a Desk collection
#: (Create Contact/Account/Ticket, api/v1); COQL is a query sent by POST, not a create
CREATE = re.compile(r"^/crm/v\d+/(?!coql$)[A-Za-z0-9_]+$|^/api/v1/[A-Za-z]+$")


class DailyLimit:
    """Zoho's answers once a service's API credits are spent: Desk 429 THRESHOLD_EXCEEDED
    (credits reset at midnight in the data center's time zone, here UTC; Retry-After says
    when), CRM 429 LIMIT_REACHED (a rolling 24 hours). See deskctl/backends/zoho/http.py."""

    def __init__(self, calls: int) -> None:
        self.calls = calls
        self.used = {"crm": 0, "desk": 0}
        self.lock = threading.Lock()

    def answer(self, path: str) -> tuple[dict[str, str], bytes] | None:
        if path.startswith("/oauth/"):
            return None
        service = "crm" if path.startswith("/crm/") else "desk"
        with self.lock:
            self.used[service] += 1
            if self.used[service] <= self.calls:
                return None
        if service == "crm":
            return {}, json.dumps({"code": "LIMIT_REACHED", "details": {}, "status": "error",
                                   "message": "API credits for the last 24 hours are "
                                              "exhausted"}).encode()
        now = datetime.now(timezone.utc)
        midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0,
                                                     microsecond=0)
        return ({"Retry-After": str(int((midnight - now).total_seconds()) + 1)},
                json.dumps({"errorCode": "THRESHOLD_EXCEEDED",
                            "message": "The API credits for the day are exhausted."}).encode())


class RateLimiter:
    """A token bucket: `rate` requests per second, bursts up to one second's worth."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.tokens = rate
        self.updated = time.monotonic()
        self.lock = threading.Lock()

    def allow(self) -> bool:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.rate, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False


def check_loopback(host: str) -> None:
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise UsageError(f"sandbox serve listens on loopback addresses only, not {host!r}")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    lost_answers: list[str]  # "POST <path>" of each create whose answer it lost

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-request (a killed sync, a dropped connection) is
        its own business: no traceback on the server's stderr."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def make_server(emulator: Emulator, host: str, port: int, faults: Faults) -> Server:
    check_loopback(host)
    rng = random.Random(faults.seed)
    limiter = RateLimiter(faults.rate_limit) if faults.rate_limit else None
    daily = DailyLimit(faults.daily_limit) if faults.daily_limit else None
    lost: list[str] = []  # the creates whose answer was lost, for tests to check

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body go out in two writes; without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every keep-alive answer
        disable_nagle_algorithm = True

        arrived = 0.0  # when the request line was read (time.monotonic)

        def log_message(self, format: str, *args: Any) -> None:  # quiet by default
            pass

        def parse_request(self) -> bool:
            # called as soon as the request line is read: the latency counts from here, so
            # reading headers and body and the emulator's work come out of it, not on top
            self.arrived = time.monotonic()
            return super().parse_request()

        def _when_due(self) -> None:
            """Hold the answer until `latency` after the request arrived; an answer that
            took longer to make leaves at once."""
            left = self.arrived + faults.latency_ms / 1000 - time.monotonic()
            if left > 0:
                time.sleep(left)

        def _drop(self) -> None:
            self._when_due()
            self.close_connection = True
            self.connection.close()

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            if body is not None and len(body) < length:
                # the client went away mid-request (a killed sync): nothing to carry out
                self.close_connection = True
                return
            if faults.drop_rate and rng.random() < faults.drop_rate:
                self._drop()
                return
            if limiter is not None and not limiter.allow():
                self._reply(429, {"Retry-After": "1"}, b'{"code":"TOO_MANY_REQUESTS",'
                                                      b'"errorCode":"TOO_MANY_REQUESTS"}')
                return
            spent = daily.answer(self.path) if daily is not None else None
            if spent is not None:
                self._reply(429, *spent)
                return
            if faults.error_rate and rng.random() < faults.error_rate:
                self._reply(503, {}, b'{"code":"INTERNAL_ERROR","errorCode":"INTERNAL"}')
                return
            url = f"http://{self.headers.get('Host', host)}{self.path}"
            reply = emulator.handle(self.command, url, dict(self.headers), body)
            if faults.lost_create_rate and 200 <= reply.status < 300 and \
                    self.command == "POST" and CREATE.match(self.path.split("?")[0]) and \
                    rng.random() < faults.lost_create_rate:
                self._lose_answer()
                return
            self._reply(reply.status, reply.headers, reply.encoded())

        def _lose_answer(self) -> None:
            """The create was carried out; its answer is lost on the way back, as when a
            connection breaks or a proxy times out: half drop the connection, half answer
            504 without a body."""
            lost.append(f"{self.command} {self.path}")
            if rng.random() < 0.5:
                self._drop()
            else:
                self.close_connection = True
                self._reply(504, {"Connection": "close"}, b"")

        def _reply(self, status: int, headers: dict[str, str], payload: bytes) -> None:
            self._when_due()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if status not in (204, 304):
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    server = Server((host, port), Handler)
    server.lost_answers = lost
    return server
