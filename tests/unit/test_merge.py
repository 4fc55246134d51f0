"""The field-level three-way merge (pure) and the planner's use of base values."""

from __future__ import annotations

from typing import Any

import pytest

from deskctl.models.sync import Pair
from deskctl.sync.mapping import fingerprint
from deskctl.sync.merge import Policy, legacy_base, merge, winner
from deskctl.sync.plan import Changes, Item, PlanInput, plan

BASE = {"Email": "a@x.example", "Last_Name": "Ann", "Phone": "+1 1"}
T0, T1, T2 = "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z"


def policy(conflict: str = "newest", mode: str = "bidirectional") -> Policy:
    return Policy(mode, conflict, "unlink")  # type: ignore[arg-type]


def both(crm: dict[str, Any], desk: dict[str, Any], conflict: str = "newest",
         crm_time: str = T1, desk_time: str = T2, mode: str = "bidirectional") -> Any:
    return merge(policy(conflict, mode), BASE, {"crm": {**BASE, **crm}, "desk": {**BASE, **desk}},
                 {}, {"crm": crm_time, "desk": desk_time})


def test_edits_to_different_fields_both_survive() -> None:
    merged = both({"Phone": "+1 2"}, {"Last_Name": "Bo"})
    assert merged.base == {**BASE, "Phone": "+1 2", "Last_Name": "Bo"}
    assert merged.writes == {"desk": {"Phone": "+1 2"}, "crm": {"Last_Name": "Bo"}}
    assert not merged.conflicts


def test_the_same_edit_on_both_sides_writes_nothing() -> None:
    merged = both({"Phone": "+1 2"}, {"Phone": "+1 2"})
    assert merged.base["Phone"] == "+1 2" and merged.writes == {}


@pytest.mark.parametrize("conflict,phone,writes", [
    ("crm-wins", "+1 C", {"desk": {"Phone": "+1 C"}}),
    ("desk-wins", "+1 D", {"crm": {"Phone": "+1 D"}}),
    ("newest", "+1 D", {"crm": {"Phone": "+1 D"}}),  # Desk's edit is later
])
def test_a_field_changed_differently_goes_to_the_policy_alone(conflict: str, phone: str,
                                                             writes: dict[str, Any]) -> None:
    merged = both({"Phone": "+1 C", "Email": "new@x.example"}, {"Phone": "+1 D"}, conflict)
    assert merged.base["Phone"] == phone
    assert merged.base["Email"] == "new@x.example"  # the other field still flows
    assert merged.writes["desk"].get("Email") == "new@x.example"
    assert {s: {k: v for k, v in w.items() if k == "Phone"} for s, w in merged.writes.items()
            if "Phone" in w} == writes


def test_manual_records_only_the_conflicting_field() -> None:
    merged = both({"Phone": "+1 C", "Last_Name": "Crm"}, {"Phone": "+1 D"}, "manual")
    assert merged.conflicts == {"Phone": ("+1 C", "+1 D")}
    assert merged.base["Phone"] == "+1 1"  # the base waits for 'sync resolve'
    assert merged.writes == {"desk": {"Last_Name": "Crm"}}


def test_an_open_conflict_stays_open_when_one_side_goes_back_to_the_base_value() -> None:
    # found by tests/sync/test_stateful_v2.py: the Desk edit back to the base value was
    # taken for "unchanged", and the CRM value overwrote it under the manual policy
    now = {"crm": {**BASE, "Phone": "+1 C"}, "desk": dict(BASE)}
    merged = merge(policy("manual"), BASE, now, {}, {"crm": T1, "desk": T2},
                   frozenset({"Phone"}))
    assert merged.conflicts == {"Phone": ("+1 C", "+1 1")} and merged.writes == {}
    merged = merge(policy("newest"), BASE, now, {}, {"crm": T1, "desk": T2},
                   frozenset({"Phone"}))  # the policy changed since: it decides, as for both
    assert merged.writes == {"crm": {"Phone": "+1 1"}}
    agreed = {"crm": {**BASE, "Phone": "+1 C"}, "desk": {**BASE, "Phone": "+1 C"}}
    merged = merge(policy("manual"), BASE, agreed, {}, {"crm": T1, "desk": T2},
                   frozenset({"Phone"}))
    assert not merged.conflicts and merged.base["Phone"] == "+1 C" and merged.writes == {}


def test_newest_compares_instants_not_text() -> None:
    # 10:00+05:30 is 04:30Z: earlier than Desk's 04:45Z although it sorts later as text
    assert winner(policy(), "2026-11-28T10:00:00+05:30", "2026-11-28T04:45:00.000Z") == "desk"
    assert winner(policy(), "2026-11-28T10:20:00+05:30", "2026-11-28T04:45:00.000Z") == "crm"
    assert winner(policy(), "2026-11-28T10:15:00+05:30", "2026-11-28T04:45:00.000Z") == "crm"


def test_one_way_restores_desk_edits_and_never_writes_crm() -> None:
    merged = both({"Phone": "+1 C"}, {"Last_Name": "Bo", "Phone": "+1 D"}, mode="one-way")
    assert merged.base == {**BASE, "Phone": "+1 C"}
    assert merged.writes == {"desk": {"Phone": "+1 C", "Last_Name": "Ann"}}


def test_a_side_that_owes_a_write_has_not_changed_what_it_still_holds() -> None:
    # killed after recording {Phone: +1 2} as the base but before Desk was written
    base = {**BASE, "Phone": "+1 2"}
    desk_held = dict(BASE)
    merged = merge(policy(), base, {"crm": base, "desk": {**BASE, "Last_Name": "Edited"}},
                   {"desk": desk_held}, {"crm": T1, "desk": T2})
    assert merged.writes == {"desk": {"Phone": "+1 2"}, "crm": {"Last_Name": "Edited"}}


def test_a_first_link_fills_blanks_from_the_other_side() -> None:
    empty = dict.fromkeys(BASE)
    merged = merge(policy("manual"), empty,
                   {"crm": {**BASE, "Phone": None}, "desk": {**BASE, "Last_Name": None}},
                   {}, {"crm": T1, "desk": T2})
    assert merged.base == BASE and not merged.conflicts
    assert merged.writes == {"crm": {"Phone": "+1 1"}, "desk": {"Last_Name": "Ann"}}


def test_a_pair_from_before_base_values_gets_one_from_the_unchanged_side() -> None:
    crm, desk = {**BASE, "Phone": "+1 2"}, dict(BASE)
    assert legacy_base(crm, desk, crm_same=False, desk_same=True) == BASE
    assert legacy_base(crm, desk, False, False) == {**BASE, "Phone": None}
    old = Pair("Contacts", "c1", "d1", None, {}, {"crm": T0, "desk": T0},
               {"crm": fingerprint(BASE), "desk": fingerprint(BASE)})
    changed = Item("c1", crm, fingerprint(crm), T1)
    current = Item("d1", desk, fingerprint(desk), T0)
    actions = plan(PlanInput("Contacts", policy(), {"c1": old}, Changes({"c1": changed}),
                             Changes(), current={("desk", "d1"): current}))
    assert [(a.kind, a.target, a.values) for a in actions] == [
        ("settle", None, {}), ("update", "desk", {"Phone": "+1 2"})]
    assert actions[0].pair is not None and actions[0].pair.base == crm


def test_a_reread_record_equal_to_its_base_costs_nothing() -> None:
    pair = Pair("Contacts", "c1", "d1", BASE, {}, {"crm": T0, "desk": T0})
    echo = Item("d1", dict(BASE), fingerprint(BASE), T2)
    assert plan(PlanInput("Contacts", policy(), {"c1": pair}, Changes(),
                          Changes({"d1": echo}))) == []
