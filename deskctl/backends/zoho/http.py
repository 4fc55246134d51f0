"""The one HTTP chokepoint per service (and for the OAuth token endpoint): session, auth
header, Desk's orgId header, timeouts, bounded retries with backoff (honouring Retry-After),
one token refresh on 401 (never on a scope error), Zoho's daily API limit as
ApiLimitReached, Zoho's errors translated into deskctl's, -v request logs with secrets
redacted, and the cap on requests in flight per portal (Gate)."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import requests
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

from deskctl import clock
from deskctl.backends.meter import CallMeter
from deskctl.backends.zoho.scopes import needed_for
from deskctl.errors import (
    ApiLimitReached,
    AuthError,
    BackendError,
    DeskctlError,
    NotFound,
    PermissionDenied,
    ValidationError,
)

if TYPE_CHECKING:
    from deskctl.backends.zoho.auth import TokenProvider

log = logging.getLogger("deskctl.http")
SECRET_PARAMS = re.compile(r"(refresh_token|client_secret|access_token|code)=[^&\s]+")
AUTH_CODES = {"INVALID_TOKEN", "INVALID_OAUTH", "UNAUTHORIZED", "AUTHENTICATION_FAILURE",
              "OAUTH_ORG_MISMATCH"}
# A token without the scope: a refresh gives the same scopes, so none is attempted (it would
# only spend one of Zoho's ten refreshes per ten minutes). CRM: 401 OAUTH_SCOPE_MISMATCH
# (crm-oas v8 record.json 401 examples); Desk: SCOPE_MISMATCH (desk.zoho.com/DeskAPIDocument
# "Errors").
SCOPE_CODES = {"OAUTH_SCOPE_MISMATCH", "SCOPE_MISMATCH"}
# The day's API credits are spent. Desk: errorCode THRESHOLD_EXCEEDED (DeskAPIDocument
# "Errors" and "API credits"; its HTTP status is not documented, so the code decides; credits
# reset at midnight in the data center's time zone). CRM: credits are a rolling 24-hour
# window (zoho.com/crm/developer/docs/api/v8/api-limits.html), but Zoho does not publish the
# body of the exhausted-credits answer for v8; deskctl takes a 429 whose code is
# LIMIT_REACHED, API_LIMIT_EXCEEDED or the legacy API's 4421 ("Number of API calls
# exceeded", zoho.com/developer/help/api/error-messages.html), or whose message speaks of
# credits or a day, and keeps retrying the concurrency 429s TOO_MANY_REQUESTS and
# RATE_LIMIT_EXCEEDED (Kaizen #203; crm-oas module_search 429 example).
DAILY_LIMIT_CODES = {"THRESHOLD_EXCEEDED", "LIMIT_REACHED", "API_LIMIT_EXCEEDED", "4421"}
DAILY_LIMIT_TEXT = re.compile(r"credit|per day|daily|24.hour", re.I)


class Limits(Protocol):
    """What the chokepoint needs from the settings; ``in_flight``: the requests a service
    may have in flight per organization (None: no cap)."""

    @property
    def timeout(self) -> float: ...

    @property
    def retries(self) -> int: ...

    @property
    def backoff(self) -> float: ...

    def in_flight(self, service: str) -> int | None: ...


@dataclass(frozen=True)
class Policy:
    timeout: float = 30.0
    retries: int = 3
    backoff: float = 0.3

    def in_flight(self, service: str) -> int | None:
        return None  # the token endpoint: another service, and one refresh at a time


class Gate:
    """The requests in flight to one organization from this process, whichever client or
    thread sends them: Zoho's concurrency limits count per portal (Desk) and per org and
    app (CRM), not per connection pool, and answer the excess with 429. A slot is held only
    for the socket round trip, never while waiting for anything else, so no request waits
    for another while holding one."""

    def __init__(self) -> None:
        self._free = threading.Condition()
        self._busy = 0

    @contextmanager
    def slot(self, cap: int) -> Iterator[None]:
        with self._free:
            while self._busy >= cap:
                self._free.wait()
            self._busy += 1
        try:
            yield
        finally:
            with self._free:
                self._busy -= 1
                # every waiter: clients of one org may ask with different caps
                self._free.notify_all()


_GATES: dict[tuple[str, str, str], Gate] = {}
_GATES_LOCK = threading.Lock()


def gate(service: str, base_url: str, org_id: str | None) -> Gate:
    """The process's gate of an organization: Desk's portal by its orgId on the Desk host,
    the CRM by its host (one org per token, and a shared gate only errs on the safe side)."""
    parts = urlsplit(base_url)
    key = (service, f"{parts.scheme}://{parts.netloc}", org_id or "")
    with _GATES_LOCK:
        return _GATES.setdefault(key, Gate())


class Transient(BackendError):
    """Worth retrying: 429, 5xx, a dropped connection. ``wait`` is Retry-After, if given."""

    def __init__(self, message: str, wait: float | None = None) -> None:
        super().__init__(message)
        self.wait = wait


def redact(text: str) -> str:
    return SECRET_PARAMS.sub(r"\1=***", text)


def _body(response: requests.Response) -> dict[str, Any]:
    """The error object of an answer (CRM: code/message/details, sometimes inside data[];
    Desk: errorCode/message/errors)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    if not isinstance(body, dict):
        return {}
    if isinstance(body.get("data"), list) and body["data"] and isinstance(body["data"][0], dict):
        return dict(body["data"][0])
    return body


def _code(body: dict[str, Any]) -> str:
    return str(body.get("code") or body.get("errorCode") or body.get("error") or "")


def daily_limit(response: requests.Response) -> ApiLimitReached | None:
    """Zoho's answer that the day's API credits are spent, or None."""
    if response.status_code < 400:
        return None
    body = _body(response)
    code, message = _code(body), str(body.get("message") or "")
    if code not in DAILY_LIMIT_CODES and not (
            response.status_code == 429 and code not in ("TOO_MANY_REQUESTS",
                                                         "RATE_LIMIT_EXCEEDED")
            and DAILY_LIMIT_TEXT.search(message)):
        return None
    service = "Desk" if "/api/v1" in response.url else "CRM"
    retry_after = response.headers.get("Retry-After")
    resets = clock.iso(clock.now() + timedelta(seconds=int(retry_after))) \
        if retry_after and retry_after.isdigit() else None
    return ApiLimitReached(f"Zoho {service} API limit reached ({code or response.status_code}: "
                           f"{message or 'daily API credits are spent'}); progress is kept "
                           "and the next run resumes", resets)


def _error(response: requests.Response, method: str = "GET") -> DeskctlError:
    """Zoho's error as a deskctl error."""
    body = _body(response)
    code = _code(body) or f"HTTP_{response.status_code}"
    message = body.get("message") or response.reason or "error"
    if code in SCOPE_CODES:
        from urllib.parse import urlparse

        scope = needed_for(method, urlparse(response.url).path)
        return AuthError(f"Zoho {code}: the access token lacks the OAuth scope "
                         f"{scope or 'this request needs'}; create a refresh token with the "
                         "scopes 'deskctl auth scopes' prints and store it with "
                         "'deskctl auth set zoho_refresh_token'")
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


class Session(requests.Session):
    """requests' Session, reading the environment's proxy and CA settings (HTTP(S)_PROXY,
    NO_PROXY, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE; requests' "trust_env") once per host
    instead of on every request, where scanning os.environ cost about half a millisecond of
    CPU: deskctl never changes them while it runs, and a new session reads them anew."""

    def __init__(self) -> None:
        super().__init__()
        self._environment: dict[str, dict[str, Any]] = {}

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any,
                                   cert: Any) -> Any:
        if proxies or stream is not None or verify is not None or cert is not None:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        parts = urlsplit(url)
        host = f"{parts.scheme}://{parts.netloc}"  # what the settings depend on
        settings = self._environment.get(host)
        if settings is None:
            settings = dict(super().merge_environment_settings(url, {}, None, None, None))
            self._environment[host] = settings
        return {**settings, "proxies": dict(settings["proxies"])}


class ZohoHttp:
    """``tokens`` None: no Authorization header (the token endpoint itself). With
    ``api_path``, the host follows the ``api_domain`` of the token answer (Zoho: "use this
    domain in all API endpoints", zoho.com/crm/developer/docs/api/v8/multi-dc.html)."""

    def __init__(self, base_url: str, tokens: TokenProvider | None, settings: Limits,
                 org_id: str | None = None, session: requests.Session | None = None,
                 meter: CallMeter | None = None, api_path: str | None = None,
                 service: str = "crm") -> None:
        self._base_url = base_url
        self.tokens = tokens
        self.settings = settings
        self.org_id = org_id
        self.session = session or Session()
        self.meter = meter if meter is not None else CallMeter()  # requests sent, shared
        self.service = service  # crm or desk: whose credits the requests spend
        self.api_path = api_path
        self._cap = settings.in_flight(service)
        self._gate = gate(service, base_url, org_id) if self._cap else None

    @property
    def base_url(self) -> str:
        domain = self.tokens.api_domain if self.tokens and self.api_path is not None else None
        return domain + str(self.api_path) if domain else self._base_url

    @property
    def calls(self) -> int:
        return self.meter.count(self.service)

    def for_org(self, org_id: str) -> ZohoHttp:
        """The same connection and request count, sending Desk's orgId header."""
        return ZohoHttp(self._base_url, self.tokens, self.settings, org_id, self.session,
                        self.meter, self.api_path, self.service)

    def close(self) -> None:
        self.session.close()

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                json: Any = None, headers: dict[str, str] | None = None,
                files: Any = None, form: dict[str, str] | None = None,
                idempotent: bool | None = None, errors_as_body: bool = False) -> Any:
        """The response's JSON (None for 204/304). Retries are bounded; a POST is retried
        only when Zoho cannot have acted on it (429), so a create is never duplicated, unless
        it is ``idempotent``. ``errors_as_body``: a 4xx answer's JSON is returned, not
        raised (the token endpoint's errors are read by the caller)."""
        again = idempotent if idempotent is not None else method != "POST"
        retryable = (Transient,) if again else (RateLimited,)
        retrying = Retrying(stop=stop_after_attempt(self.settings.retries),
                            retry=retry_if_exception_type(retryable), reraise=True,
                            wait=self._wait)
        return retrying(self._send, method, path, params, json, headers, files, form, again,
                        errors_as_body)

    def _wait(self, state: Any) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, Transient) and exc.wait is not None:
            return min(exc.wait, 60.0)
        import random

        base = self.settings.backoff * (2 ** (state.attempt_number - 1))
        return float(min(base, 30.0) * (0.5 + random.random()))  # noqa: S311 - jitter

    @contextmanager
    def _slot(self) -> Iterator[None]:
        """One of the organization's in-flight slots, for the socket round trip only (the
        token was got before; retries' backoff and a 401's refresh come after)."""
        if self._gate is None or self._cap is None:
            yield
            return
        with self._gate.slot(self._cap):
            yield

    def _send(self, method: str, path: str, params: dict[str, Any] | None, body: Any,
              headers: dict[str, str] | None, files: Any, form: dict[str, str] | None,
              again: bool, errors_as_body: bool, refreshed: bool = False) -> Any:
        all_headers = dict(headers or {})
        if self.tokens is not None:
            all_headers["Authorization"] = f"Zoho-oauthtoken {self.tokens.token(refreshed)}"
        if self.org_id:
            all_headers["orgId"] = self.org_id
        url = self.base_url + path
        # counted (and checked against a --max-calls budget) before it is sent; COQL is a
        # query sent by POST (zoho.com/crm/developer/docs/api/v8/COQL-Overview.html)
        self.meter.spend(self.service, method != "GET" and not path.endswith("/coql"))
        try:
            with self._slot():
                started = time.monotonic()
                response = self.session.request(method, url, params=params, json=body,
                                                data=form, headers=all_headers, files=files,
                                                timeout=self.settings.timeout)
        except (requests.ConnectionError, requests.Timeout) as exc:
            log.info("%s %s -> %s", method, redact(url), type(exc).__name__)
            if not again and not isinstance(exc, requests.ConnectTimeout):
                raise BackendError(f"{method} {path}: connection lost ({type(exc).__name__}); "
                                   "the next run checks whether it went through") from None
            raise Transient(f"{method} {path}: {type(exc).__name__}") from None
        log.info("%s %s -> %s (%.0f ms)", method, redact(response.url), response.status_code,
                 (time.monotonic() - started) * 1000)
        status = response.status_code
        limit = daily_limit(response)
        if limit is not None:
            raise limit
        if status == 401 and not refreshed and self.tokens is not None and \
                _code(_body(response)) not in SCOPE_CODES:
            return self._send(method, path, params, body, headers, files, form, again,
                              errors_as_body, refreshed=True)
        if status == 429:
            retry_after = response.headers.get("Retry-After")
            raise RateLimited(f"{method} {path}: rate limited (429)",
                              float(retry_after) if retry_after and retry_after.isdigit()
                              else None)
        if status >= 500:
            raise Transient(f"{method} {path}: Zoho answered {status}")
        if status in (204, 304):
            return None
        if status >= 400 and not (status == 400 and _is_batch(response)) and \
                not errors_as_body:
            raise _error(response, method)
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
