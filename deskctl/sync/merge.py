"""The field-level three-way merge of one pair. Pure: no I/O, nothing from state/.

Per field, against the pair's base (the values both sides agreed on at the last sync):
changed on one side -> it flows; changed on both to the same value -> nothing to do;
changed on both differently -> the conflict policy decides that field only. A side that
still owes a write (``held``: its values when the write was decided) has not changed a
field it still holds as it was, nor one that already holds the base value.

A first link merges with an empty base, so a blank takes the other side's value. A pair
from before base values (schema 3) gets its base from current values: the side whose
fingerprint still matches the last sync is unchanged, so its values are the base; when both
moved, fields equal on both sides are the base and the others count as changed on both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deskctl.models.records import known_instant
from deskctl.models.sync import CRM, DESK, SIDES, ConflictPolicy, Mode, OnDelete, Side


@dataclass(frozen=True)
class Policy:
    mode: Mode
    conflict: ConflictPolicy
    on_delete: OnDelete

    @property
    def two_way(self) -> bool:
        return self.mode == "bidirectional"


@dataclass(frozen=True)
class Merged:
    base: dict[str, Any]  # the new agreed values (conflicting fields keep the old base)
    writes: dict[Side, dict[str, Any]] = field(default_factory=dict)  # side -> fields to write
    conflicts: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # (crm, desk) values
    winners: dict[str, Side] = field(default_factory=dict)  # fields decided by the policy


def winner(policy: Policy, crm_modified: str, desk_modified: str) -> Side | None:
    """Which side wins a field changed differently on both; None: record a conflict.
    ``newest`` compares instants (Zoho CRM answers with offsets, Desk with milliseconds
    and Z); a tie goes to the CRM."""
    if not policy.two_way or policy.conflict == "crm-wins":
        return CRM
    if policy.conflict == "desk-wins":
        return DESK
    if policy.conflict == "newest":
        desk, crm = known_instant(desk_modified), known_instant(crm_modified)
        # an unreadable time cannot claim to be newer
        return DESK if desk is not None and crm is not None and desk > crm else CRM
    return None


def empty_base(fields: list[str]) -> dict[str, Any]:
    return dict.fromkeys(fields)


def legacy_base(crm: dict[str, Any], desk: dict[str, Any], crm_same: bool,
                desk_same: bool) -> dict[str, Any]:
    """A base for a pair synced before base values existed (see the module docstring)."""
    if crm_same:
        return dict(crm)
    if desk_same:
        return dict(desk)
    return {f: v if desk.get(f) == v else None for f, v in crm.items()}


def merge(policy: Policy, base: dict[str, Any], now: dict[Side, dict[str, Any]],
          held: dict[Side, dict[str, Any]], modified: dict[Side, str],
          open_fields: frozenset[str] = frozenset()) -> Merged:
    """``now``: each side's current values; ``open_fields``: fields with an open conflict
    (both sides count as changed there until they agree or the conflict is resolved)."""
    new_base: dict[str, Any] = {}
    writes: dict[Side, dict[str, Any]] = {CRM: {}, DESK: {}}
    conflicts: dict[str, tuple[Any, Any]] = {}
    winners: dict[str, Side] = {}
    names = dict.fromkeys([*base, *now[CRM], *now[DESK]])  # a newly mapped field: no base
    for name in names:
        old = base.get(name)
        values = {side: now[side].get(name) for side in SIDES}
        changed = {}
        for side in SIDES:
            value = values[side]
            if name in open_fields:
                # even a side back at the base value: the policy never decided this field
                changed[side] = True
            else:
                was = held[side].get(name, old) if side in held else old
                changed[side] = value != old and value != was
        if not policy.two_way:
            # one-way: the CRM is the master; Desk edits are restored
            value = values[CRM] if changed[CRM] or values[CRM] == old else old
        elif changed[CRM] and changed[DESK] and values[CRM] != values[DESK]:
            won = winner(policy, modified.get(CRM, ""), modified.get(DESK, ""))
            if won is None:
                conflicts[name] = (values[CRM], values[DESK])
                new_base[name] = old
                continue
            value = values[won]
            winners[name] = won
        elif changed[CRM]:
            value = values[CRM]
        elif changed[DESK]:
            value = values[DESK]
        else:
            value = old
        new_base[name] = value
        for side in SIDES:
            if values[side] != value and (policy.two_way or side == DESK):
                writes[side][name] = value
    return Merged(new_base, {s: w for s, w in writes.items() if w}, conflicts, winners)
