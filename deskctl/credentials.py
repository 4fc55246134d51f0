"""Secrets: the OS keyring when one is usable, else environment variables.

The only module that imports ``keyring``. A keyring that is missing, locked, a fail/null
backend, or slower than KEYRING_TIMEOUT counts as unavailable, so a cron job never hangs on
it. Values are never printed or logged; ``describe`` tells only where a value comes from.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

from deskctl.errors import AuthError

SERVICE = "deskctl"


@dataclass(frozen=True)
class Credential:
    name: str
    env: str
    help: str


CREDENTIALS: tuple[Credential, ...] = (
    Credential("zoho_client_id", "DESKCTL_ZOHO_CLIENT_ID", "Zoho OAuth client id"),
    Credential("zoho_client_secret", "DESKCTL_ZOHO_CLIENT_SECRET", "Zoho OAuth client secret"),
    Credential("zoho_refresh_token", "DESKCTL_ZOHO_REFRESH_TOKEN", "Zoho OAuth refresh token"),
    Credential("zsc_key", "DESKCTL_ZSC_KEY", "ZSC key of another user's Desk portal"),
    Credential("pg_password", "PGPASSWORD", "password of the PostgreSQL state database"),
)
BY_NAME = {c.name: c for c in CREDENTIALS}


def _timeout() -> float:
    try:
        return float(os.environ.get("DESKCTL_KEYRING_TIMEOUT", "3"))
    except ValueError:
        return 3.0


class CredentialStore:
    """Per-profile secrets. ``keyring_backend`` lets tests pass an in-memory keyring."""

    def __init__(self, profile: str, keyring_backend: Any = None) -> None:
        self.profile = profile
        self._backend = keyring_backend
        self._checked = keyring_backend is not None
        self.unavailable_reason: str | None = None
        self.keyring_name: str | None = type(keyring_backend).__name__ \
            if keyring_backend is not None else None

    def _username(self, name: str) -> str:
        return f"{self.profile}:{name}"

    def _keyring(self) -> Any:
        """The usable keyring backend, or None (reason in ``unavailable_reason``)."""
        if not self._checked:
            self._checked = True
            try:
                import keyring
                from keyring.backends import fail, null

                backend = keyring.get_keyring()
                self.keyring_name = type(backend).__name__
                inner = getattr(backend, "backends", None)
                plaintext = [b for b in [backend, *(inner or [])] if _is_plaintext(b)]
                if isinstance(backend, (fail.Keyring, null.Keyring)) or inner == []:
                    self.unavailable_reason = f"no usable keyring ({type(backend).__name__})"
                elif plaintext:
                    where = getattr(plaintext[0], "file_path", "a file")
                    self.unavailable_reason = (
                        f"the keyring {type(plaintext[0]).__name__} is an unencrypted "
                        f"plaintext file ({where}), not a secure keyring")
                else:
                    self._backend = backend
            except Exception as exc:  # a broken keyring install must not stop the tool
                self.unavailable_reason = f"keyring failed to load: {exc}"
        return self._backend

    def _call(self, func: Any, *args: Any) -> tuple[bool, Any]:
        """Run one keyring call with a bounded wait: (succeeded, result)."""
        result: list[Any] = []
        error: list[BaseException] = []

        def target() -> None:
            try:
                result.append(func(*args))
            except BaseException as exc:  # reported below, never raised in the thread
                error.append(exc)

        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        thread.join(_timeout())
        if thread.is_alive():
            self.unavailable_reason = f"keyring did not answer within {_timeout():g}s (locked?)"
            self._backend = None
            return False, None
        if error:
            self.unavailable_reason = f"keyring error: {error[0]}"
            return False, None
        return True, result[0]

    def lookup(self, name: str) -> tuple[str | None, str]:
        """(value, source) for a credential; source is 'keyring', 'env NAME' or 'not set'."""
        cred = BY_NAME[name]
        backend = self._keyring()
        if backend is not None:
            _ok, value = self._call(backend.get_password, SERVICE, self._username(name))
            if value:
                return value, "keyring"
        if os.environ.get(cred.env):
            return os.environ[cred.env], f"env {cred.env}"
        return None, "not set"

    def get(self, name: str) -> str | None:
        return self.lookup(name)[0]

    def require(self, name: str) -> str:
        value = self.get(name)
        if not value:
            cred = BY_NAME[name]
            raise AuthError(f"{cred.help} is not set: run 'deskctl auth set {name}' or set "
                            f"{cred.env}")
        return value

    def require_keyring(self, name: str) -> Any:
        """The usable keyring, or AuthError saying to use the environment variable instead
        (checked before anyone is asked for a secret)."""
        backend = self._keyring()
        if backend is None:
            raise AuthError(f"cannot store {name}: {self.unavailable_reason}; set "
                            f"{BY_NAME[name].env} in the environment instead")
        return backend

    def set(self, name: str, value: str) -> None:
        backend = self.require_keyring(name)
        if not self._call(backend.set_password, SERVICE, self._username(name), value)[0]:
            raise AuthError(f"cannot store {name}: {self.unavailable_reason}; set "
                            f"{BY_NAME[name].env} in the environment instead")

    def clear(self, name: str) -> bool:
        """Remove a stored credential; True when one was there."""
        backend = self._keyring()
        if backend is None:
            return False
        if not self._call(backend.get_password, SERVICE, self._username(name))[1]:
            return False
        return self._call(backend.delete_password, SERVICE, self._username(name))[0]

    def keyring_status(self) -> dict[str, Any]:
        """Which keyring is configured and whether deskctl uses it (and if not, why)."""
        backend = self._keyring()
        return {"backend": self.keyring_name, "used": backend is not None,
                "note": None if backend is not None else self.unavailable_reason}

    def describe(self) -> list[dict[str, str]]:
        rows = []
        for cred in CREDENTIALS:
            _value, source = self.lookup(cred.name)
            rows.append({"name": cred.name, "source": source, "env": cred.env,
                         "description": cred.help})
        return rows


def _is_plaintext(backend: Any) -> bool:
    """keyrings.alt's PlaintextKeyring keeps secrets unencrypted in a file: not a keyring
    deskctl trusts (its EncryptedKeyring is fine)."""
    return any(cls.__name__ == "PlaintextKeyring" for cls in type(backend).__mro__)
