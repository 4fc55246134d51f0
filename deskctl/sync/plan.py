"""The pure planner: CRM changes + Desk changes + the status at last sync -> actions.

A three-way comparison per record pair (vdirsyncer's): a side whose fingerprint moved since
the last sync changed; a modified-time bump with the same fingerprint is no change. No I/O
here: the run gathers everything the planner needs first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deskctl.state.sync import PairRow
from deskctl.sync.mapping import match_key

CRM, DESK = "crm", "desk"


def other(side: str) -> str:
    return DESK if side == CRM else CRM


@dataclass(frozen=True, slots=True)
class Item:
    """A record as the planner sees it: canonical mapped values and their fingerprint."""

    id: str
    values: dict[str, Any]
    fp: str
    modified: str


@dataclass(frozen=True)
class Changes:
    """What one side reports since its cursor: changed records and tombstones."""

    changed: dict[str, Item] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Policy:
    mode: str  # one-way | bidirectional
    conflict: str  # crm-wins | desk-wins | newest | manual
    on_delete: str  # unlink | propagate

    @property
    def two_way(self) -> bool:
        return self.mode == "bidirectional"


@dataclass(frozen=True)
class PlanInput:
    module: str
    policy: Policy
    pairs: dict[str, PairRow]  # by CRM id
    crm: Changes
    desk: Changes
    #: current records of the other side, fetched where a decision needs them
    current: dict[tuple[str, str], Item] = field(default_factory=dict)
    #: unpaired records per (side, match key), for matching before creating
    candidates: dict[tuple[str, str], list[Item]] = field(default_factory=dict)
    #: unpaired records found for a pending create intent, per (source side, source id)
    recovered: dict[tuple[str, str], list[Item]] = field(default_factory=dict)
    unlinked: set[tuple[str, str]] = field(default_factory=set)
    intents: set[tuple[str, str]] = field(default_factory=set)
    conflicts: set[str] = field(default_factory=set)  # CRM ids with an open manual conflict


@dataclass(frozen=True, slots=True)
class Action:
    """kind: create | update | delete | link | unlink | conflict | problem.

    ``target`` is the side written (create/update/delete) or the side that keeps its
    record (unlink). A link records a new pair as the records are now; updates towards
    merged values follow it.
    """

    kind: str
    module: str
    target: str | None
    crm_id: str | None = None
    desk_id: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    other_values: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    merge: bool = False  # an update towards merged values of a first link

    def source_id(self) -> str | None:
        return self.desk_id if self.target == CRM else self.crm_id

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"action": self.kind, "module": self.module,
                                "side": self.target, "crm_id": self.crm_id,
                                "desk_id": self.desk_id, "reason": self.reason}
        if self.values:
            data["values"] = self.values
        return data


def _winner(policy: Policy, crm: Item, desk: Item) -> str | None:
    """Which side wins when both changed differently; None means record a conflict."""
    if not policy.two_way or policy.conflict == "crm-wins":
        return CRM
    if policy.conflict == "desk-wins":
        return DESK
    if policy.conflict == "newest":
        return DESK if desk.modified > crm.modified else CRM
    return None


def _resolve(inp: PlanInput, crm: Item, desk: Item, why: str) -> Action:
    """Both sides hold different values: the policy's winner overwrites the other side."""
    winner = _winner(inp.policy, crm, desk)
    if winner is None:
        return Action("conflict", inp.module, None, crm.id, desk.id, crm.values, desk.values,
                      f"{why}; conflict policy is manual")
    source = crm if winner == CRM else desk
    rule = inp.policy.conflict if inp.policy.two_way else "one-way"
    return Action("update", inp.module, other(winner), crm.id, desk.id, source.values,
                  reason=f"{why}; {winner} wins ({rule})")


def _plan_pair(inp: PlanInput, pair: PairRow) -> Action | None:
    policy = inp.policy
    crm = inp.crm.changed.get(pair.crm_id)
    desk = inp.desk.changed.get(pair.desk_id)
    crm_gone = crm is None and pair.crm_id in inp.crm.deleted
    desk_gone = desk is None and pair.desk_id in inp.desk.deleted
    crm_changed = crm is not None and crm.fp != pair.crm_fp
    desk_changed = desk is not None and desk.fp != pair.desk_fp
    module = inp.module

    if crm_gone and desk_gone:
        return Action("unlink", module, None, pair.crm_id, pair.desk_id,
                      reason="deleted on both sides")
    if crm_gone:
        if policy.on_delete == "propagate" and not desk_changed:
            return Action("delete", module, DESK, pair.crm_id, pair.desk_id,
                          reason="deleted in CRM")
        if policy.on_delete == "propagate" and policy.two_way and desk is not None:
            return Action("create", module, CRM, None, pair.desk_id, desk.values,
                          reason="deleted in CRM but edited in Desk: the edit wins")
        return Action("unlink", module, DESK, pair.crm_id, pair.desk_id,
                      reason="deleted in CRM; Desk keeps its record")
    if desk_gone:
        if policy.on_delete == "propagate" and not crm_changed and policy.two_way:
            return Action("delete", module, CRM, pair.crm_id, pair.desk_id,
                          reason="deleted in Desk")
        if policy.on_delete == "propagate" and crm is not None and crm_changed:
            return Action("create", module, DESK, pair.crm_id, None, crm.values,
                          reason="deleted in Desk but edited in CRM: the edit wins")
        return Action("unlink", module, CRM, pair.crm_id, pair.desk_id,
                      reason="deleted in Desk; CRM keeps its record")
    if pair.crm_id in inp.conflicts:
        return None  # waits for 'deskctl sync resolve'
    if crm_changed and desk_changed:
        assert crm is not None and desk is not None
        if crm.fp == desk.fp:
            return Action("link", module, None, crm.id, desk.id, crm.values,
                          reason="both changed to the same values")
        return _resolve(inp, crm, desk, "changed on both sides")
    if crm_changed:
        assert crm is not None
        return Action("update", module, DESK, pair.crm_id, pair.desk_id, crm.values,
                      reason="changed in CRM")
    if desk_changed:
        assert desk is not None
        if policy.two_way:
            return Action("update", module, CRM, pair.crm_id, pair.desk_id, desk.values,
                          reason="changed in Desk")
        master = crm or inp.current.get((CRM, pair.crm_id))
        if master is not None and master.fp != desk.fp:
            return Action("update", module, DESK, pair.crm_id, pair.desk_id, master.values,
                          reason="changed in Desk; one-way sync restores the CRM values")
    return None


def merge(policy: Policy, crm: Item, desk: Item) -> dict[str, Any] | None:
    """Values for two records linked for the first time: a blank takes the other side's
    value; fields set differently on both go to the policy's winner (None: manual)."""
    if not policy.two_way:
        return dict(crm.values)
    winner = _winner(policy, crm, desk)
    merged = {}
    for name, crm_value in crm.values.items():
        desk_value = desk.values.get(name)
        if crm_value is None or desk_value is None or crm_value == desk_value:
            merged[name] = crm_value if crm_value is not None else desk_value
        elif winner is None:
            return None
        else:
            merged[name] = crm_value if winner == CRM else desk_value
    return merged


def _first_link(inp: PlanInput, crm: Item, desk: Item, key: str) -> list[Action]:
    """Link two matched records (state only), then bring each side to the merged values."""
    module, why = inp.module, f"matched by {key!r}"
    merged = merge(inp.policy, crm, desk)
    if merged is None:
        return [Action("conflict", module, None, crm.id, desk.id, crm.values, desk.values,
                       f"{why} with different values; conflict policy is manual")]
    actions = [Action("link", module, None, crm.id, desk.id, crm.values, desk.values, why)]
    for side, current in ((DESK, desk), (CRM, crm)):
        if current.values != merged:
            actions.append(Action("update", module, side, crm.id, desk.id, merged,
                                  reason=f"{why}; merged values", merge=True))
    return actions


def _ids(side: str, record_id: str) -> tuple[str | None, str | None]:
    """(crm_id, desk_id) for a record known on one side only."""
    return (record_id, None) if side == CRM else (None, record_id)


def _plan_unpaired(inp: PlanInput, side: str, item: Item, taken: set[tuple[str, str]]
                   ) -> list[Action]:
    """A record the other side does not know yet: match it, or create it there."""
    module, target = inp.module, other(side)
    recovered = [c for c in inp.recovered.get((side, item.id), [])
                 if c.fp == item.fp and (target, c.id) not in taken]
    if (side, item.id) in inp.intents and recovered:
        match = recovered[0]
        crm_id, desk_id = (item.id, match.id) if side == CRM else (match.id, item.id)
        return [Action("link", module, None, crm_id, desk_id, item.values,
                       reason="created by an interrupted run; linked, not created again")]
    key = match_key(module, item.values)
    if key is not None:
        mine = [c for c in inp.candidates.get((side, key), []) if (side, c.id) not in taken]
        if item.id not in {c.id for c in mine}:
            mine.append(item)
        theirs = [c for c in inp.candidates.get((target, key), [])
                  if (target, c.id) not in taken]
        if len(mine) > 1 or len(theirs) > 1:
            return [Action("problem", module, side, *_ids(side, item.id),
                           reason=f"ambiguous match: {len(mine)} {side} and {len(theirs)} "
                                  f"{target} records share {key!r}; not merged")]
        if theirs:
            crm, desk = (item, theirs[0]) if side == CRM else (theirs[0], item)
            return _first_link(inp, crm, desk, key)
    return [Action("create", module, target, *_ids(side, item.id), item.values,
                   reason=f"new in {side}")]


def plan(inp: PlanInput) -> list[Action]:
    """Actions for one module, in the order they are applied."""
    actions: list[Action] = []
    by_desk = {p.desk_id: p for p in inp.pairs.values()}
    for pair in inp.pairs.values():
        action = _plan_pair(inp, pair)
        if action is not None:
            actions.append(action)
    taken: set[tuple[str, str]] = set()
    sides = [(CRM, inp.crm)] + ([(DESK, inp.desk)] if inp.policy.two_way else [])
    for side, changes in sides:
        paired = inp.pairs if side == CRM else by_desk
        for item in changes.changed.values():
            if item.id in paired or (side, item.id) in inp.unlinked or (side, item.id) in taken:
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
        counts[summary_key(action)] = counts.get(summary_key(action), 0) + 1
    return counts
