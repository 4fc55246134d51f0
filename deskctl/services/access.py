"""Who may do what: the acting user's CRM profile, Desk role, and the integration's state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from deskctl.errors import PermissionDenied
from deskctl.models.integration import Integration
from deskctl.models.people import CrmUser

if TYPE_CHECKING:
    from deskctl.backends.base import Backend
    from deskctl.state import StateStore


def require_admin(backend: Backend, action: str) -> CrmUser:
    """The acting user, if a CRM administrator; PermissionDenied (exit 6) otherwise."""
    user = backend.crm.current_user()
    if not user.is_admin:
        raise PermissionDenied(f"permission denied: {user.email} has the CRM profile "
                               f"{user.profile!r}; only a CRM administrator may {action}")
    return user


def integration(state: StateStore) -> Integration:
    return Integration.from_dict(state.get("integration"))


def save(state: StateStore, value: Integration) -> None:
    state.put("integration", value.to_dict())
