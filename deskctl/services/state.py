"""Looking after the state itself: check it, or move a profile's state to another file or
PostgreSQL database (both run locks held, so no run writes during the copy)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deskctl.errors import UsageError

if TYPE_CHECKING:
    from deskctl.state import StateStore


class StateService:
    def __init__(self, state: StateStore, profile: str) -> None:
        self.state = state
        self.profile = profile

    def check(self) -> dict[str, Any]:
        from deskctl.state.transfer import check

        return check(self.state)

    def migrate(self, to: str, force: bool, lock_timeout: float) -> dict[str, Any]:
        from deskctl.state import StateStore
        from deskctl.state.database import is_url
        from deskctl.state.postgres import check_url
        from deskctl.state.transfer import copy

        if not to.strip():
            raise UsageError("--to needs a file path or a postgresql:// URL")
        if is_url(to):
            try:
                check_url(to)
            except ValueError as exc:
                raise UsageError(f"--to: {exc}") from None
        target = StateStore(to, self.profile)
        try:
            with self.state.run_lock("state migrate", lock_timeout), \
                    target.run_lock("state migrate", lock_timeout):
                return copy(self.state, target, force)
        finally:
            target.close()
