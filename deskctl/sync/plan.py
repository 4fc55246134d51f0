"""The pure planner: CRM changes + Desk changes + the pairs' base values -> actions.

Each pair is merged field by field against its base (sync/merge.py). A record re-read with
its pair's base values costs nothing: no plan item, no write (echo suppression). State
actions (link, settle, conflict) record a pair with what it still owes each side *before*
the writes that pay it, so a run killed anywhere leaves a pair the next run finishes.
No I/O and no imports from state/: the run gathers everything the planner needs first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from deskctl.models.sync import CRM, DESK, SIDES, Pair, Side, other
from deskctl.sync.mapping import fingerprint, match_key
from deskctl.sync.merge import Merged, Policy, empty_base, legacy_base, merge

__all__ = ["CRM", "DESK", "Action", "Changes", "Item", "PlanInput", "Policy", "other", "plan"]

Kind = Literal["create", "update", "delete", "link", "unlink", "conflict", "problem", "settle"]
STATE_KINDS = ("link", "unlink", "conflict", "problem", "settle")


@dataclass(frozen=True, slots=True)
class Item:
    """A record as the planner sees it: canonical mapped values and their fingerprint."""

    id: str
    values: dict[str, Any]
    fp: str
    modified: str
    created: str = ""


@dataclass(frozen=True)
class Changes:
    """What one side reports since its cursor: changed records and tombstones."""

    changed: dict[str, Item] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class PlanInput:
    module: str
    policy: Policy
    pairs: dict[str, Pair]  # by CRM id: every pair of a changed, deleted or owing record
    crm: Changes
    desk: Changes
    #: current records of the other side of pairs made before base values existed
    current: dict[tuple[Side, str], Item] = field(default_factory=dict)
    #: unpaired records per (side, match key), for matching before creating
    candidates: dict[tuple[Side, str], list[Item]] = field(default_factory=dict)
    #: the record an unfinished create made, per (source side, source id), and its payload
    recovered: dict[tuple[Side, str], tuple[Item, dict[str, Any]]] = field(default_factory=dict)
    #: unfinished creates whose record cannot be told apart: never created again
    unsure: set[tuple[Side, str]] = field(default_factory=set)
    #: records that may be an unfinished create's: never matched or copied as new ones
    reserved: set[tuple[Side, str]] = field(default_factory=set)
    unlinked: set[tuple[Side, str]] = field(default_factory=set)
    #: open conflicts: CRM id -> {field: (CRM value, Desk value)}
    conflicts: dict[str, dict[str, tuple[Any, Any]]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Action:
    """``target`` is the side written (create/update/delete) or the side that keeps its
    record (unlink). ``values``: a create's record, an update's changed fields. ``pair``:
    the pair state a link/settle/conflict records before any write."""

    kind: Kind
    module: str
    target: Side | None
    crm_id: str | None = None
    desk_id: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    pair: Pair | None = None
    conflicts: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    closes: bool = False  # a settle that closes the pair's open conflict
    #: a new pair (a link, also when its merge opens a manual conflict): its records leave
    #: the record errors and open create intents
    links: bool = False
    key: str = ""  # a problem's match key

    def source_id(self) -> str | None:
        return self.desk_id if self.target == CRM else self.crm_id

    def id_on(self, side: Side) -> str | None:
        return self.crm_id if side == CRM else self.desk_id

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"action": self.kind, "module": self.module,
                                "side": self.target, "crm_id": self.crm_id,
                                "desk_id": self.desk_id, "reason": self.reason}
        if self.values:
            data["values"] = self.values
        if self.conflicts:
            data["fields"] = sorted(self.conflicts)
        return data


def _held_now(pair: Pair, side: Side, conflicts: dict[str, tuple[Any, Any]]) -> dict[str, Any]:
    """A side's values when it was not re-read: unchanged since the last sync."""
    values = pair.last(side)
    for name, (crm_value, desk_value) in conflicts.items():
        values[name] = crm_value if side == CRM else desk_value
    return values


def _reason(merged: Merged, changed: dict[Side, bool], policy: Policy, side: Side) -> str:
    if merged.winners:
        names = ", ".join(sorted(merged.winners))
        rule = policy.conflict if policy.two_way else "one-way"
        return f"{names} changed on both sides; {merged.winners[next(iter(merged.winners))]} " \
               f"wins ({rule})"
    source = other(side)
    if changed[source]:
        return f"changed in {source.upper() if source == CRM else 'Desk'}"
    if not policy.two_way and side == DESK:
        return "changed in Desk; one-way sync restores the CRM values"
    return "finishing an earlier run's write"


def _settle(inp: PlanInput, kind: Kind, crm: Item, desk: Item, merged: Merged,
            now: dict[Side, dict[str, Any]], why: str, closes: bool = False) -> list[Action]:
    """Record the merged pair (with what it owes each side), then the owed writes."""
    held = {side: now[side] for side in merged.writes}
    pair = Pair(inp.module, crm.id, desk.id, merged.base, held,
                {CRM: crm.modified, DESK: desk.modified})
    links = kind == "link"
    if merged.conflicts:
        kind, why = "conflict", f"{why}; {', '.join(sorted(merged.conflicts))} changed " \
                                "differently on both sides; conflict policy is manual"
    actions = [Action(kind, inp.module, None, crm.id, desk.id, reason=why, pair=pair,
                      conflicts=merged.conflicts, closes=closes, links=links)]
    changed = {s: now[s] != merged.base for s in SIDES}
    for side in (DESK, CRM):
        if side in merged.writes:
            actions.append(Action("update", inp.module, side, crm.id, desk.id,
                                  merged.writes[side],
                                  reason=why if links else
                                  _reason(merged, changed, inp.policy, side)))
    return actions


def _plan_pair(inp: PlanInput, pair: Pair) -> list[Action]:
    policy, module = inp.policy, inp.module
    items = {CRM: inp.crm.changed.get(pair.crm_id), DESK: inp.desk.changed.get(pair.desk_id)}
    changes = {CRM: inp.crm, DESK: inp.desk}
    gone = {s: items[s] is None and pair.id(s) in changes[s].deleted for s in SIDES}
    open_conflict = inp.conflicts.get(pair.crm_id, {})

    def edited(side: Side) -> bool:
        item = items[side]
        if item is None:
            return False
        if pair.base is None:
            return item.fp != pair.legacy_fp.get(side)
        return item.values != pair.base and item.values != pair.held.get(side)

    if gone[CRM] and gone[DESK]:
        return [Action("unlink", module, None, pair.crm_id, pair.desk_id,
                       reason="deleted on both sides")]
    for dead in SIDES:
        if not gone[dead]:
            continue
        alive = other(dead)
        label = "CRM" if dead == CRM else "Desk"
        survivor = items[alive]
        recreate = policy.on_delete == "propagate" and survivor is not None and \
            (policy.two_way or dead == DESK)
        if recreate and survivor is not None:
            # an interrupted run re-created it already (the edit won then), whatever was
            # edited since: link what it made, never leave it behind as a new record
            recovered = inp.recovered.get((alive, survivor.id))
            if recovered is not None:
                return _link_recovered(inp, alive, survivor, *recovered)
            if (alive, survivor.id) in inp.unsure:
                return [_unsure(inp, alive, survivor)]
        if policy.on_delete == "propagate" and not edited(alive) and \
                (policy.two_way or alive == DESK):
            return [Action("delete", module, alive, pair.crm_id, pair.desk_id,
                           reason=f"deleted in {label}")]
        if recreate and survivor is not None:
            return [Action("create", module, dead, *_ids(alive, survivor.id), survivor.values,
                           reason=f"deleted in {label} but edited in "
                                  f"{'Desk' if dead == CRM else 'CRM'}: the edit wins")]
        return [Action("unlink", module, alive, pair.crm_id, pair.desk_id,
                       reason=f"deleted in {label}; {'Desk' if dead == CRM else 'CRM'} keeps "
                              "its record")]

    if items[CRM] is None and items[DESK] is None and not pair.owes:
        return []
    now: dict[Side, dict[str, Any]] = {}
    for side in SIDES:
        item = items[side] or inp.current.get((side, pair.id(side)))
        if item is not None:
            now[side] = item.values
        elif pair.base is not None:
            now[side] = _held_now(pair, side, open_conflict)
        else:
            return []  # a pair from before base values, its counterpart not fetched
    base = pair.base
    if base is None:
        base = legacy_base(now[CRM], now[DESK], fingerprint(now[CRM]) == pair.legacy_fp[CRM],
                           fingerprint(now[DESK]) == pair.legacy_fp[DESK])
    modified = {s: items[s].modified if items[s] else pair.modified.get(s, "")  # type: ignore[union-attr]
                for s in SIDES}
    merged = merge(policy, base, now, pair.held if pair.base is not None else {}, modified,
                   frozenset(open_conflict))
    if not merged.writes and not merged.conflicts and merged.base == pair.base and \
            not pair.owes and not open_conflict:
        return []  # an echo of our own write, or a modified-time bump: nothing to do
    crm = Item(pair.crm_id, now[CRM], "", modified[CRM])
    desk = Item(pair.desk_id, now[DESK], "", modified[DESK])
    return _settle(inp, "settle", crm, desk, merged, now, "changed", closes=bool(open_conflict))


def _ids(side: Side, record_id: str) -> tuple[str | None, str | None]:
    """(crm_id, desk_id) for a record known on one side only."""
    return (record_id, None) if side == CRM else (None, record_id)


def _pair_items(side: Side, mine: Item, theirs: Item) -> tuple[Item, Item]:
    return (mine, theirs) if side == CRM else (theirs, mine)


def _link(inp: PlanInput, crm: Item, desk: Item, base: dict[str, Any], why: str) -> list[Action]:
    now = {CRM: crm.values, DESK: desk.values}
    merged = merge(inp.policy, base, now, {}, {CRM: crm.modified, DESK: desk.modified})
    return _settle(inp, "link", crm, desk, merged, now, why)


def _link_recovered(inp: PlanInput, side: Side, item: Item, made: Item,
                    payload: dict[str, Any]) -> list[Action]:
    """The record an interrupted run created: link it, merging edits made since with the
    values it was created from as the base."""
    crm, desk = _pair_items(side, item, made)
    return _link(inp, crm, desk, {**empty_base(list(item.values)), **payload},
                 "created by an interrupted run; linked, not created again")


def _unsure(inp: PlanInput, side: Side, item: Item) -> Action:
    return Action("problem", inp.module, side, *_ids(side, item.id),
                  reason="an interrupted run may have created this record and several "
                         "records could be it; not created again (link one by hand)")


def _plan_unpaired(inp: PlanInput, side: Side, item: Item, taken: set[tuple[Side, str]]
                   ) -> list[Action]:
    """A record the other side does not know yet: recover, match, or create it there."""
    module, target = inp.module, other(side)
    recovered = inp.recovered.get((side, item.id))
    if recovered is not None and (target, recovered[0].id) not in taken:
        return _link_recovered(inp, side, item, *recovered)
    if (side, item.id) in inp.unsure:
        return [_unsure(inp, side, item)]
    key = match_key(module, item.values)
    if key is not None:
        mine = [c for c in inp.candidates.get((side, key), []) if (side, c.id) not in taken]
        if item.id not in {c.id for c in mine}:
            mine.append(item)
        theirs = [c for c in inp.candidates.get((target, key), [])
                  if (target, c.id) not in taken]
        if len(mine) > 1 or len(theirs) > 1:
            return [Action("problem", module, side, *_ids(side, item.id), key=key,
                           reason=f"ambiguous match: {len(mine)} {side} and {len(theirs)} "
                                  f"{target} records share {key!r}; not merged")]
        if theirs:
            crm, desk = _pair_items(side, item, theirs[0])
            return _link(inp, crm, desk, empty_base(list(item.values)), f"matched by {key!r}")
    return [Action("create", module, target, *_ids(side, item.id), item.values,
                   reason=f"new in {side}")]


def plan(inp: PlanInput) -> list[Action]:
    """Actions for one module: state actions first, then writes in the executor's order."""
    actions: list[Action] = []
    by_desk = {p.desk_id: p for p in inp.pairs.values()}
    taken: set[tuple[Side, str]] = set()
    for pair in inp.pairs.values():
        planned = _plan_pair(inp, pair)
        for action in planned:
            if action.links and action.crm_id and action.desk_id:
                taken |= {(CRM, action.crm_id), (DESK, action.desk_id)}
        actions += planned
    sides = [(CRM, inp.crm)] + ([(DESK, inp.desk)] if inp.policy.two_way else [])
    for side, changes in sides:
        paired = inp.pairs if side == CRM else by_desk
        for item in changes.changed.values():
            if item.id in paired or (side, item.id) in inp.unlinked or \
                    (side, item.id) in taken or (side, item.id) in inp.reserved:
                continue
            planned = _plan_unpaired(inp, side, item, taken)
            for action in planned:
                if action.crm_id and action.desk_id:
                    taken |= {(CRM, action.crm_id), (DESK, action.desk_id)}
            actions += planned
    return actions


def summary_key(action: Action) -> str:
    """'kind' or 'kind->side' (e.g. 'create->desk'), the report's counting unit."""
    return f"{action.kind}->{action.target}" if action.kind in ("create", "update", "delete") \
        else action.kind


def summarize(actions: list[Action]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for action in actions:
        if action.kind != "settle":
            counts[summary_key(action)] = counts.get(summary_key(action), 0) + 1
    return counts
