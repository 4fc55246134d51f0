"""The state store: the only code that touches the state (a SQLite file or a PostgreSQL
schema), its run lock and its audit log."""

from deskctl.state.lock import RunLock
from deskctl.state.store import StateStore

__all__ = ["RunLock", "StateStore"]
