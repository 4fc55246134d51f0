"""The sync's closed vocabularies and its record of a synced pair. Pure: shared by the
planner (which must not import the state store) and the state store that persists it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Side = Literal["crm", "desk"]
Mode = Literal["one-way", "bidirectional"]
ConflictPolicy = Literal["crm-wins", "desk-wins", "newest", "manual"]
OnDelete = Literal["unlink", "propagate"]
CRM: Side = "crm"
DESK: Side = "desk"
SIDES: tuple[Side, Side] = (CRM, DESK)
#: modules other records point to (a Contact's account): a pair of theirs that is forgotten
#: is remembered (sync_former_pairs), so what points to either record still reads the same
REFERENCED = ("Accounts",)


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

    def last(self, side: Side) -> dict[str, Any]:
        """What ``side`` held at the last sync: the base, or for a side that still owes a
        write, what it held when the write was decided."""
        return {**(self.base or {}), **self.held.get(side, {})}


class Planned(Protocol):
    """What Outstanding reads of a planned action (sync/plan.py's Action)."""

    @property
    def kind(self) -> str: ...
    @property
    def module(self) -> str: ...
    @property
    def target(self) -> Side | None: ...
    @property
    def crm_id(self) -> str | None: ...
    @property
    def desk_id(self) -> str | None: ...
    @property
    def conflicts(self) -> dict[str, tuple[Any, Any]]: ...
    @property
    def closes(self) -> bool: ...
    @property
    def links(self) -> bool: ...


@dataclass
class Outstanding:
    """The records in error and the open conflicts, keyed as the state store keeps them:
    what a run reports it leaves. A real run reports the store's after its writes; a dry run
    the store's changed by its plan as the executor records it when every write succeeds
    (a write the other side rejects cannot be foreseen)."""

    errors: set[tuple[str, str, str]]  # (module, side, record id)
    conflicts: set[tuple[str, str]]  # (module, CRM id)

    def after(self, actions: Iterable[Planned], gone: Iterable[tuple[str, str, str]]
              ) -> Outstanding:
        """``gone``: (module, side, id) of records in error found deleted; their errors go."""
        errors, conflicts = set(self.errors), set(self.conflicts)
        for a in actions:
            crm, desk = (a.module, CRM, str(a.crm_id)), (a.module, DESK, str(a.desk_id))
            if a.kind == "problem":
                errors.add(desk if a.target == DESK else crm)
            elif a.links:  # a new pair's records leave the errors
                errors -= {crm, desk}
            elif a.kind in ("create", "update") and a.target is not None:
                errors.discard(desk if a.target == CRM else crm)  # the source's
            if a.conflicts:  # a pair recorded with conflicts: opened or still open
                conflicts.add((a.module, str(a.crm_id)))
            elif a.closes or a.kind in ("unlink", "delete"):  # closed, or its pair ended
                conflicts.discard((a.module, str(a.crm_id)))
        return Outstanding(errors - set(gone), conflicts)
