"""Storing and removing this machine's credentials in the keyring, each change audited as
the operating-system user (no CRM user acts: the credentials are what lets one act)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from deskctl.credentials import CredentialStore
    from deskctl.state import StateStore


class CredentialService:
    def __init__(self, credentials: CredentialStore, state: StateStore, actor: str) -> None:
        self.credentials = credentials
        self.state = state
        self.actor = actor

    def set(self, name: str, value: str) -> dict[str, Any]:
        self.credentials.set(name, value)
        self.state.audit(self.actor, "auth.set", name)
        return {"name": name, "profile": self.credentials.profile, "stored_in": "keyring"}

    def clear(self, name: str) -> dict[str, Any]:
        """Remove it; audited only when there was one to remove."""
        removed = self.credentials.clear(name)
        if removed:
            self.state.audit(self.actor, "auth.clear", name)
        return {"name": name, "profile": self.credentials.profile, "changed": removed}
