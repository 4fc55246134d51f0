"""Who may do what: the acting user's CRM profile, Desk role, and the integration's state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from deskctl.errors import ConfigError, NotFound, PermissionDenied, UsageError
from deskctl.models.integration import Integration
from deskctl.models.people import CrmUser

if TYPE_CHECKING:
    from deskctl.backends.base import Backend
    from deskctl.config import Config
    from deskctl.state import StateStore


def require_admin(backend: Backend, action: str) -> CrmUser:
    """The acting user, if a CRM administrator; PermissionDenied (exit 6) otherwise."""
    user = backend.crm.current_user()
    if not user.is_admin:
        raise PermissionDenied(f"permission denied: {user.email} has the CRM profile "
                               f"{user.profile!r}; only a CRM administrator may {action}")
    return user


def check_acting_user(backend: Backend, config: Config) -> None:
    """The acting user (--as or the config's ``user``) must be a user of the backend."""
    if config.user is None:
        return
    try:
        backend.crm.current_user()
    except NotFound as exc:
        source = config.sources["user"]
        if source == "command line":
            raise UsageError(f"--as {config.user}: {exc.message}") from None
        raise ConfigError(f"user {config.user} (from {source}): {exc.message}") from None


def integration(state: StateStore) -> Integration:
    return Integration.from_dict(state.get("integration"))


def save(state: StateStore, value: Integration) -> None:
    state.put("integration", value.to_dict())
