"""The run lock: one sync or apply at a time per state store.

An advisory ``flock`` on ``<state>.lock``: the kernel releases it when the holder dies, so
a dead holder is taken over safely without guessing from pids. The holder writes who it is
(host, pid, start time, operation) into the file so a waiting process can name it.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType

from deskctl import clock
from deskctl.errors import LockHeld
from deskctl.sqlitefile import create_private_file


def held_message(info: dict[str, object] | None, where: str) -> str:
    """The exit-4 line: who holds the run lock, whichever store keeps it."""
    if not info:
        return f"another deskctl run holds the lock on {where}; wait or pass --lock-timeout SECONDS"
    return (f"another deskctl {info.get('operation')} is running (host {info.get('host')}, "
            f"pid {info.get('pid')}, started {info.get('started_at')}); "
            "wait or pass --lock-timeout SECONDS")


class RunLock:
    """The SQLite store's run lock: a ``flock`` on ``<state>.lock``."""

    def __init__(self, state_path: Path, operation: str, timeout: float = 0.0) -> None:
        self.path = Path(str(state_path) + ".lock")
        self.operation = operation
        self.timeout = timeout
        self._fd: int | None = None

    def holder(self) -> dict[str, object] | None:
        try:
            text = self.path.read_text(encoding="utf-8")
            return json.loads(text) if text.strip() else None
        except (OSError, ValueError):
            return None

    def acquire(self) -> None:
        create_private_file(self.path)
        fd = os.open(self.path, os.O_RDWR)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise LockHeld(held_message(self.holder(), str(self.path))) from None
                time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
        info = {"host": socket.gethostname(), "pid": os.getpid(),
                "started_at": clock.iso_second(datetime.now(timezone.utc)),
                "operation": self.operation}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
