"""OAuth for Zoho: the refresh-token grant per data center, with the access token cached in
a 0600 file and shared by every process of the profile.

Zoho lets a refresh token mint only ten access tokens per ten minutes, and cron and CI
start many processes: each reuses the cached token until shortly before it expires, and a
refresh happens under an exclusive lock on the cache file, so concurrent processes refresh
once between them. Token-endpoint errors arrive with HTTP 200 and an ``error`` key.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

import requests

from deskctl.credentials import CredentialStore
from deskctl.errors import AuthError, BackendError
from deskctl.sqlitefile import create_private_file

EARLY_REFRESH_SECONDS = 300  # refresh this long before Zoho's one-hour expiry


class _Unavailable(BackendError):
    """The accounts server did not answer properly; worth another try."""


class TokenProvider:
    def __init__(self, accounts_url: str, credentials: CredentialStore, cache: Path,
                 timeout: float = 30, session: requests.Session | None = None) -> None:
        self.accounts_url = accounts_url
        self.credentials = credentials
        self.cache = cache
        self.timeout = timeout
        self.session = session or requests.Session()
        self._token: tuple[str, float] | None = None  # (access token, expires at)
        self.refreshes = 0

    def _key(self) -> str:
        """Which refresh token a cached access token belongs to (a hash, not the secret)."""
        parts = [self.accounts_url, self.credentials.require("zoho_client_id"),
                 self.credentials.require("zoho_refresh_token")]
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()

    def _read_cache(self, fd: int, key: str) -> tuple[str, float] | None:
        os.lseek(fd, 0, os.SEEK_SET)
        raw = os.read(fd, 65536)
        try:
            data = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return None
        entry = data.get(key)
        if entry and entry["expires_at"] - EARLY_REFRESH_SECONDS > time.time():
            return entry["access_token"], entry["expires_at"]
        return None

    def token(self, force_refresh: bool = False) -> str:
        """A valid access token: this process's, the shared cache's, or a fresh one."""
        if self._token and not force_refresh and \
                self._token[1] - EARLY_REFRESH_SECONDS > time.time():
            return self._token[0]
        key = self._key()
        create_private_file(self.cache)
        fd = os.open(self.cache, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # one refresh at a time across processes
            cached = self._read_cache(fd, key)
            stale = self._token[0] if self._token else None
            if cached and not (force_refresh and cached[0] == stale):
                self._token = cached
                return cached[0]
            self._token = self._refresh()
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps({key: {"access_token": self._token[0],
                                           "expires_at": self._token[1]}}).encode())
            return self._token[0]
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _refresh(self) -> tuple[str, float]:
        """The refresh-token grant; a 5xx or dropped connection is tried again, twice."""
        from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random

        retrying = Retrying(stop=stop_after_attempt(3), wait=wait_random(0.2, 1.0),
                            retry=retry_if_exception_type(_Unavailable), reraise=True)
        try:
            return retrying(self._refresh_once)
        except _Unavailable as exc:
            raise BackendError(exc.message) from None

    def _refresh_once(self) -> tuple[str, float]:
        form = {"grant_type": "refresh_token",
                "client_id": self.credentials.require("zoho_client_id"),
                "client_secret": self.credentials.require("zoho_client_secret"),
                "refresh_token": self.credentials.require("zoho_refresh_token")}
        try:
            response = self.session.post(f"{self.accounts_url}/oauth/v2/token", data=form,
                                         timeout=self.timeout)
        except requests.RequestException as exc:
            raise _Unavailable(f"cannot reach the Zoho accounts server "
                               f"{self.accounts_url}: {type(exc).__name__}") from None
        self.refreshes += 1
        if response.status_code >= 500:
            raise _Unavailable(f"the Zoho accounts server answered {response.status_code}")
        try:
            body: dict[str, Any] = response.json()
        except ValueError:
            body = {}
        if response.status_code >= 400 or "access_token" not in body:
            error = body.get("error") or f"HTTP {response.status_code}"
            hint = {"Access Denied": "Zoho refused: too many token refreshes in ten minutes; "
                                     "wait and retry",
                    "invalid_client": "the client id or secret is wrong, or belongs to "
                                      "another data center",
                    "invalid_code": "the refresh token is invalid or revoked: create a new "
                                    "one and 'deskctl auth set zoho_refresh_token'"}
            raise AuthError(f"token refresh failed: {error}"
                            + (f" ({hint[error]})" if error in hint else ""))
        return str(body["access_token"]), time.time() + float(body.get("expires_in", 3600))
