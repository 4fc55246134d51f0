"""The one rule for state changes: a service method that changes the integration's state
holds the run lock while it reads what it decides on and writes it, so it never interleaves
with a sync run or another change (issue 11: `portal switch` during a sync mixed portals).

Commands never take the lock themselves; services declare it with ``@exclusive``. The lock
is re-entrant within a process, because `apply` changes state through the other services.
"""

from __future__ import annotations

import functools
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from deskctl.state import StateStore

_held: dict[str, int] = {}  # state location -> nesting depth of the lock this process holds
F = TypeVar("F", bound=Callable[..., Any])


class Locking(Protocol):
    state: StateStore


@contextmanager
def hold(state: StateStore, operation: str, timeout: float) -> Iterator[None]:
    """The run lock of ``state`` for ``operation``; LockHeld (exit 4, naming the holder)
    after ``timeout`` seconds."""
    from deskctl.state.sync import SyncStore

    key = state.location
    if _held.get(key):
        _held[key] += 1
        try:
            yield
        finally:
            _held[key] -= 1
        return
    with state.run_lock(operation, timeout):
        _held[key] = 1
        try:
            # whatever is still "running" now that the lock is free was killed
            SyncStore(state).close_interrupted_runs()
            yield
        finally:
            del _held[key]


def exclusive(operation: str) -> Callable[[F], F]:
    """Decorate a service method that changes state: it runs under the run lock, waiting
    up to the state store's ``lock_timeout`` (config ``lock_timeout``, ``--lock-timeout``)."""

    def decorate(method: F) -> F:
        @functools.wraps(method)
        def locked(self: Locking, *args: Any, **kwargs: Any) -> Any:
            with hold(self.state, operation, self.state.lock_timeout):
                return method(self, *args, **kwargs)

        return locked  # type: ignore[return-value]

    return decorate


@contextmanager
def interruptible() -> Iterator[None]:
    """SIGTERM and SIGHUP (cron's or systemd's stop, a closed terminal) end the run like
    Ctrl-C: as KeyboardInterrupt, so the run can record itself as interrupted."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
