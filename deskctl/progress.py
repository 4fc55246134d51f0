"""Where long work (a sync, a seed) says what it is doing: a phase with counts, or how far
through the writes it is. The base class shows nothing, so engines and services call it
unconditionally; `output.progress()` picks the live terminal status when stderr is a TTY.
No click here: the sync engine imports this module."""

from __future__ import annotations

import shutil
import time
from collections.abc import Mapping
from types import TracebackType
from typing import TextIO


class Progress:
    """Reports nowhere (stderr piped, -q, tests, library use)."""

    def phase(self, name: str, counts: Mapping[str, int] | None = None) -> None:
        """Now doing ``name``; ``counts`` (e.g. records read per side) so far."""

    def advance(self, done: int, total: int) -> None:
        """``done`` of ``total`` items of the current phase."""

    def close(self) -> None:
        """The work ended: take the status away."""

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class LiveStatus(Progress):
    """One line on a terminal, rewritten in place and cleared at the end. Redrawn at most
    every ``interval`` seconds (a new phase at once), so a caller may report every record."""

    def __init__(self, stream: TextIO, interval: float = 0.1) -> None:
        self.stream = stream
        self.interval = interval
        self.name = ""
        self.last = 0.0
        self.shown = False

    def phase(self, name: str, counts: Mapping[str, int] | None = None) -> None:
        new = name != self.name
        self.name = name
        if new or self._due():
            detail = ", ".join(f"{key} {value:,}" for key, value in (counts or {}).items())
            self._draw(f"{name}: {detail}" if detail else f"{name} ...")

    def advance(self, done: int, total: int) -> None:
        if done >= total or self._due():
            share = done / total if total else 1.0
            filled = int(share * 20)
            self._draw(f"{self.name} [{'#' * filled}{'-' * (20 - filled)}] "
                       f"{done:,}/{total:,} ({share:.0%})")

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False

    def _due(self) -> bool:
        return time.monotonic() - self.last >= self.interval

    def _draw(self, text: str) -> None:
        width = shutil.get_terminal_size((80, 24)).columns - 1
        if len(text) > width:
            text = text[: max(width - 3, 0)] + "..."
        self.stream.write(f"\r\x1b[K{text}")
        self.stream.flush()
        self.last = time.monotonic()
        self.shown = True
