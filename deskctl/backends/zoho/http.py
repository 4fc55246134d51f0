"""The one HTTP chokepoint per service: session, auth header, Desk's orgId header,
timeouts, bounded retries with backoff (honouring Retry-After), one token refresh on 401,
Zoho's errors translated into deskctl's, and -v request logs with secrets redacted."""

from __future__ import annotations

import logging
import re
import time
from typing import TYPE_CHECKING, Any

import requests
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

from deskctl.errors import (
    AuthError,
    BackendError,
    DeskctlError,
    NotFound,
    PermissionDenied,
    ValidationError,
)

if TYPE_CHECKING:
    from deskctl.backends.zoho.auth import TokenProvider
    from deskctl.backends.zoho.settings import ZohoSettings

log = logging.getLogger("deskctl.http")
SECRET_PARAMS = re.compile(r"(refresh_token|client_secret|access_token|code)=[^&\s]+")
AUTH_CODES = {"INVALID_TOKEN", "INVALID_OAUTH", "UNAUTHORIZED", "AUTHENTICATION_FAILURE",
              "OAUTH_SCOPE_MISMATCH", "SCOPE_MISMATCH", "OAUTH_ORG_MISMATCH"}


class Transient(BackendError):
    """Worth retrying: 429, 5xx, a dropped connection. ``wait`` is Retry-After, if given."""

    def __init__(self, message: str, wait: float | None = None) -> None:
        super().__init__(message)
        self.wait = wait


def redact(text: str) -> str:
    return SECRET_PARAMS.sub(r"\1=***", text)


def _error(response: requests.Response) -> DeskctlError:
    """Zoho's error body (CRM: code/message/details; Desk: errorCode/message/errors)."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if isinstance(body.get("data"), list) and body["data"]:
        body = body["data"][0]
    code = body.get("code") or body.get("errorCode") or f"HTTP_{response.status_code}"
    message = body.get("message") or response.reason or "error"
    details = body.get("details") or {}
    field = details.get("api_name") if isinstance(details, dict) else None
    if body.get("errors"):
        field = str(body["errors"][0].get("fieldName", "")).lstrip("/") or field
    text = f"Zoho {code}: {message}" + (f" (field {field})" if field else "")
    status = response.status_code
    if status == 401 or code in AUTH_CODES:
        return AuthError(text)
    if status == 403:
        return PermissionDenied(text)
    if status == 404:
        return NotFound(text)
    if status in (400, 422):
        return ValidationError(text, field=field)
    return BackendError(text)


class ZohoHttp:
    def __init__(self, base_url: str, tokens: TokenProvider, settings: ZohoSettings,
                 org_id: str | None = None, session: requests.Session | None = None,
                 counter: list[int] | None = None) -> None:
        self.base_url = base_url
        self.tokens = tokens
        self.settings = settings
        self.org_id = org_id
        self.session = session or requests.Session()
        self.counter = counter if counter is not None else [0]  # requests sent, shared

    @property
    def calls(self) -> int:
        return self.counter[0]

    def for_org(self, org_id: str) -> ZohoHttp:
        """The same connection and request count, sending Desk's orgId header."""
        return ZohoHttp(self.base_url, self.tokens, self.settings, org_id, self.session,
                        self.counter)

    def close(self) -> None:
        self.session.close()

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                json: Any = None, headers: dict[str, str] | None = None,
                files: Any = None) -> Any:
        """The response's JSON (None for 204/304). Retries are bounded; a POST is retried
        only when Zoho cannot have acted on it (429), so a create is never duplicated."""
        retryable = (Transient,) if method != "POST" else (RateLimited,)
        retrying = Retrying(stop=stop_after_attempt(self.settings.retries),
                            retry=retry_if_exception_type(retryable), reraise=True,
                            wait=self._wait)
        return retrying(self._send, method, path, params, json, headers, files)

    def _wait(self, state: Any) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, Transient) and exc.wait is not None:
            return min(exc.wait, 60.0)
        import random

        base = self.settings.backoff * (2 ** (state.attempt_number - 1))
        return float(min(base, 30.0) * (0.5 + random.random()))  # noqa: S311 - jitter

    def _send(self, method: str, path: str, params: dict[str, Any] | None, body: Any,
              headers: dict[str, str] | None, files: Any, refreshed: bool = False) -> Any:
        all_headers = {"Authorization": f"Zoho-oauthtoken {self.tokens.token(refreshed)}",
                       **(headers or {})}
        if self.org_id:
            all_headers["orgId"] = self.org_id
        url = self.base_url + path
        started = time.monotonic()
        try:
            response = self.session.request(method, url, params=params, json=body,
                                            headers=all_headers, files=files,
                                            timeout=self.settings.timeout)
        except (requests.ConnectionError, requests.Timeout) as exc:
            self.counter[0] += 1
            log.info("%s %s -> %s", method, redact(url), type(exc).__name__)
            if method == "POST" and not isinstance(exc, requests.ConnectTimeout):
                raise BackendError(f"{method} {path}: connection lost ({type(exc).__name__}); "
                                   "the next run checks whether it went through") from None
            raise Transient(f"{method} {path}: {type(exc).__name__}") from None
        self.counter[0] += 1
        log.info("%s %s -> %s (%.0f ms)", method, redact(response.url), response.status_code,
                 (time.monotonic() - started) * 1000)
        status = response.status_code
        if status == 401 and not refreshed:
            return self._send(method, path, params, body, headers, files, refreshed=True)
        if status == 429:
            retry_after = response.headers.get("Retry-After")
            raise RateLimited(f"{method} {path}: rate limited (429)",
                              float(retry_after) if retry_after and retry_after.isdigit()
                              else None)
        if status >= 500:
            raise Transient(f"{method} {path}: Zoho answered {status}")
        if status in (204, 304):
            return None
        if status >= 400 and not (status == 400 and _is_batch(response)):
            raise _error(response)
        try:
            return response.json()
        except ValueError:
            raise BackendError(f"{method} {path}: Zoho answered {status} without JSON") \
                from None


class RateLimited(Transient):
    """429: Zoho did not act on the request, so even a POST may be sent again."""


def _is_batch(response: requests.Response) -> bool:
    """A CRM batch write answers 400 with per-record results when every record failed."""
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body.get("data"), list) and bool(body["data"]) and \
        isinstance(body["data"][0], dict) and "status" in body["data"][0]
