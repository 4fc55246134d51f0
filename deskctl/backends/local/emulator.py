"""The sandbox spoken as Zoho: CRM v8, Desk v1 and the OAuth token endpoint, in the shapes
of Zoho's specifications, over the local backend. Transport-free: `handle()` takes a
request and returns (status, headers, body), so tests call it through `responses` and
`deskctl sandbox serve` puts it on a socket. Fault injection lives in the server. This
module authenticates and dispatches; the CRM side answers in emulator_crm, the Desk side
in emulator_desk."""

from __future__ import annotations

import json
import secrets
import threading
from typing import Any
from urllib.parse import parse_qs, urlparse

from deskctl.backends import zohospec
from deskctl.backends.local import LocalBackend
from deskctl.backends.local import emulator_strict as strict
from deskctl.backends.local.emulator_crm import CrmRoutes
from deskctl.backends.local.emulator_desk import DeskRoutes
from deskctl.backends.local.emulator_reads import Reply
from deskctl.errors import DeskctlError, NotFound, ValidationError
from deskctl.models.tickets import DEAL_LINK_FIELD

__all__ = ["Emulator", "Reply"]


class Emulator(CrmRoutes, DeskRoutes):
    """Thread-safe: one lock around the sandbox (it has one SQLite connection)."""

    def __init__(self, backend: LocalBackend, deal_field: str = DEAL_LINK_FIELD) -> None:
        self.backend = backend.whole_seconds()  # Zoho's times, whatever the caller reads
        self.tokens: set[str] = set()
        self.deal_field = deal_field
        self.lock = threading.Lock()
        self.calls: dict[str, int] = {"crm": 0, "desk": 0, "token": 0}
        #: the token answer's api_domain (`sandbox serve` sets its own address)
        self.api_domain = "https://www.zohoapis.com"

    def handle(self, method: str, url: str, headers: dict[str, str],
               body: bytes | None) -> Reply:
        parsed = urlparse(url)
        query = {k: v[-1] for k, v in parse_qs(parsed.query, keep_blank_values=True).items()}
        headers = {k.lower(): v for k, v in headers.items()}
        with self.lock:
            try:
                if parsed.path == "/oauth/v2/token":
                    self.calls["token"] += 1
                    return self._token(body)
                service = "crm" if parsed.path.startswith("/crm/v8") else "desk"
                self.calls[service] += 1
                token = headers.get("authorization", "").removeprefix("Zoho-oauthtoken ")
                if token not in self.tokens:
                    return (Reply(401, {"code": "INVALID_TOKEN", "status": "error",
                                        "message": "invalid oauth token", "details": {}})
                            if service == "crm" else
                            Reply(401, {"errorCode": "INVALID_OAUTH",
                                        "message": "The OAuth Token you provided is invalid."}))
                payload = self._json(body, headers)
                op = zohospec.find(method, parsed.path)
                if op is None:
                    raise NotFound(f"no route {method} {parsed.path}")
                found = zohospec.request_problems(method, url, headers, payload)
                if found:
                    return Reply(*strict.refusal(service, found))
                if service == "crm":
                    reply = self._crm(method, parsed.path[len("/crm/v8"):], query, headers,
                                      payload)
                else:
                    reply = self._desk(method, parsed.path[len("/api/v1"):], query, headers,
                                       payload)
                reply.body = strict.answer(op, reply.status, reply.body)
                return reply
            except NotFound as exc:
                return Reply(404, {"errorCode": "URL_NOT_FOUND", "code": "NOT_FOUND",
                                   "message": exc.message, "status": "error"})
            except ValidationError as exc:
                if exc.field and not parsed.path.startswith("/crm/"):
                    # Desk: 422 INVALID_DATA naming the field (Common.json invalidData...)
                    return Reply(422, {"errorCode": "INVALID_DATA", "message": exc.message,
                                       "errors": [{"fieldName": f"/{exc.field}",
                                                   "errorType": "invalid",
                                                   "errorMessage": exc.message}]})
                return Reply(400, {"errorCode": "INVALID_DATA", "code": "INVALID_DATA",
                                   "message": exc.message, "status": "error"})
            except DeskctlError as exc:
                return Reply(400, {"errorCode": "INVALID_DATA", "code": "INVALID_DATA",
                                   "message": exc.message, "status": "error"})

    @staticmethod
    def _json(body: bytes | None, headers: dict[str, str]) -> Any:
        if not body or "json" not in headers.get("content-type", "json"):
            return None
        try:
            return json.loads(body)
        except ValueError:
            raise ValidationError("the body is not JSON") from None

    def _token(self, body: bytes | None) -> Reply:
        form = {k: v[-1] for k, v in parse_qs((body or b"").decode()).items()}
        if form.get("grant_type") != "refresh_token" or not all(
                form.get(k) for k in ("client_id", "client_secret", "refresh_token")):
            return Reply(200, {"error": "invalid_client"})  # Zoho: errors with HTTP 200
        token = "1000." + secrets.token_hex(16)
        self.tokens.add(token)
        return Reply(200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer",
                           "api_domain": self.api_domain})
