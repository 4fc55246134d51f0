"""The state store: the only code that touches the state file (and its lock file)."""

from deskctl.state.lock import RunLock
from deskctl.state.store import StateStore

__all__ = ["RunLock", "StateStore"]
