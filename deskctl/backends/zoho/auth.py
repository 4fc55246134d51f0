"""OAuth for Zoho: the refresh-token grant per data center, with the access token cached in
a 0600 file and shared by every process of the profile.

Zoho lets a refresh token mint only ten access tokens per ten minutes, and cron and CI
start many processes: each reuses the cached token until shortly before it expires, and a
refresh happens under an exclusive lock on the cache file, so concurrent processes refresh
once between them. Token-endpoint errors arrive with HTTP 200 and an ``error`` key. The
token request goes through the same HTTP chokepoint as the API calls (logging, redaction,
retries). The answer's ``api_domain`` is kept with the token: the CRM API lives there.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import requests

from deskctl.backends.zoho.http import Policy, ZohoHttp
from deskctl.credentials import CredentialStore
from deskctl.errors import AuthError
from deskctl.sqlitefile import create_private_file

EARLY_REFRESH_SECONDS = 300  # at most this long before expiry (Zoho's tokens live an hour)


def refresh_margin(lifetime: float) -> float:
    """Refresh min(300 s, a tenth of the token's life) before it expires, so a token that
    lives five minutes or less is still used for most of its life."""
    return min(EARLY_REFRESH_SECONDS, lifetime / 10)


def _api_domain(url: object) -> str | None:
    """An api_domain worth following: https, or http to a loopback address (the emulator);
    anything else is ignored and the data center's host stays."""
    from deskctl.backends.zoho.settings import _checked_url
    from deskctl.errors import ConfigError

    try:
        return _checked_url("api_domain", str(url)) if url else None
    except ConfigError:
        return None


@dataclass(frozen=True)
class Token:
    access_token: str
    expires_at: float
    lifetime: float
    api_domain: str | None = None

    def fresh(self) -> bool:
        return self.expires_at - refresh_margin(self.lifetime) > time.time()


class TokenProvider:
    def __init__(self, accounts_url: str, credentials: CredentialStore, cache: Path,
                 timeout: float = 30, session: requests.Session | None = None) -> None:
        self.accounts_url = accounts_url
        self.credentials = credentials
        self.cache = cache
        self.http = ZohoHttp(accounts_url, None, Policy(timeout=timeout), session=session)
        self._token: Token | None = None
        self.refreshes = 0

    @property
    def api_domain(self) -> str | None:
        """The API domain of the last token answer (None before the first token)."""
        return self._token.api_domain if self._token else None

    def _key(self) -> str:
        """Which refresh token a cached access token belongs to (a hash, not the secret)."""
        parts = [self.accounts_url, self.credentials.require("zoho_client_id"),
                 self.credentials.require("zoho_refresh_token")]
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()

    def _read_cache(self, fd: int, key: str) -> Token | None:
        os.lseek(fd, 0, os.SEEK_SET)
        raw = os.read(fd, 65536)
        try:
            entry = (json.loads(raw) if raw.strip() else {}).get(key)
            token = Token(entry["access_token"], float(entry["expires_at"]),
                          float(entry.get("lifetime", 3600)), entry.get("api_domain")) \
                if entry else None
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        return token if token and token.fresh() else None

    def token(self, force_refresh: bool = False) -> str:
        """A valid access token: this process's, the shared cache's, or a fresh one."""
        if self._token and not force_refresh and self._token.fresh():
            return self._token.access_token
        key = self._key()
        create_private_file(self.cache)
        fd = os.open(self.cache, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # one refresh at a time across processes
            cached = self._read_cache(fd, key)
            stale = self._token.access_token if self._token else None
            if cached and not (force_refresh and cached.access_token == stale):
                self._token = cached
                return cached.access_token
            self._token = self._refresh()
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps({key: asdict(self._token)}).encode())
            return self._token.access_token
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _refresh(self) -> Token:
        """The refresh-token grant through the chokepoint (a 5xx or dropped connection is
        tried again; the form never appears in logs)."""
        form = {"grant_type": "refresh_token",
                "client_id": self.credentials.require("zoho_client_id"),
                "client_secret": self.credentials.require("zoho_client_secret"),
                "refresh_token": self.credentials.require("zoho_refresh_token")}
        body: dict[str, Any] = self.http.request("POST", "/oauth/v2/token", form=form,
                                                 idempotent=True, errors_as_body=True) or {}
        self.refreshes += 1
        if "access_token" not in body:
            error = body.get("error") or "no access token in the answer"
            hint = {"Access Denied": "Zoho refused: too many token refreshes in ten minutes; "
                                     "wait and retry",
                    "invalid_client": "the client id or secret is wrong, or belongs to "
                                      "another data center",
                    "invalid_code": "the refresh token is invalid or revoked: create a new "
                                    "one and 'deskctl auth set zoho_refresh_token'"}
            raise AuthError(f"token refresh failed: {error}"
                            + (f" ({hint[error]})" if error in hint else ""))
        lifetime = float(body.get("expires_in", 3600))
        return Token(str(body["access_token"]), time.time() + lifetime, lifetime,
                     _api_domain(body.get("api_domain")))
