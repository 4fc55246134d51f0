"""The sync's closed vocabularies and its record of a synced pair. Pure: shared by the
planner (which must not import the state store) and the state store that persists it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Side = Literal["crm", "desk"]
Mode = Literal["one-way", "bidirectional"]
ConflictPolicy = Literal["crm-wins", "desk-wins", "newest", "manual"]
OnDelete = Literal["unlink", "propagate"]
CRM: Side = "crm"
DESK: Side = "desk"
SIDES: tuple[Side, Side] = (CRM, DESK)


def other(side: Side) -> Side:
    return DESK if side == CRM else CRM


@dataclass(frozen=True, slots=True)
class Pair:
    """Two records known to be one. ``base`` is the canonical values both sides agreed on
    at the last sync (None: a pair from before base values, see sync/merge.py); ``held``
    has, for a side that still owes a write, the values it held when the write was decided,
    so a run killed before the write finishes it next time."""

    module: str
    crm_id: str
    desk_id: str
    base: dict[str, Any] | None
    held: dict[Side, dict[str, Any]] = field(default_factory=dict)
    modified: dict[Side, str] = field(default_factory=dict)
    legacy_fp: dict[Side, str] = field(default_factory=dict)  # pre-base fingerprints

    def id(self, side: Side) -> str:
        return self.crm_id if side == CRM else self.desk_id

    @property
    def owes(self) -> bool:
        return bool(self.held)
