"""One test per row of the planner's decision table (pure: no backend, no state)."""

from __future__ import annotations

from typing import Any

import pytest

from deskctl.models.sync import Pair
from deskctl.sync.mapping import fingerprint
from deskctl.sync.plan import Changes, Item, PlanInput, Policy, plan

M = "Contacts"
TWO_WAY = Policy("bidirectional", "newest", "unlink")
PROPAGATE = Policy("bidirectional", "newest", "propagate")
ONE_WAY = Policy("one-way", "crm-wins", "unlink")


def item(record_id: str, email: str = "a@x.example", name: str = "Ann",
         modified: str = "2026-01-01T00:00:00Z", **extra: Any) -> Item:
    values = {"Email": email, "Last_Name": name, **extra}
    return Item(record_id, values, fingerprint(values), modified)


BASE = item("c1")
PAIR = Pair(M, "c1", "d1", BASE.values, {}, {"crm": BASE.modified, "desk": BASE.modified})


def run(policy: Policy = TWO_WAY, *, pairs: tuple[Pair, ...] = (PAIR,),
        crm: tuple[Item, ...] = (), desk: tuple[Item, ...] = (), crm_deleted: tuple[str, ...] = (),
        desk_deleted: tuple[str, ...] = (), **kwargs: Any) -> list[tuple[Any, ...]]:
    inp = PlanInput(M, policy, {p.crm_id: p for p in pairs},
                    Changes({i.id: i for i in crm}, set(crm_deleted)),
                    Changes({i.id: i for i in desk}, set(desk_deleted)), **kwargs)
    return [(a.kind, a.target, a.crm_id, a.desk_id) for a in plan(inp) if a.kind != "settle"]


def edited(record_id: str, name: str = "Bo", modified: str = "2026-01-02T00:00:00Z") -> Item:
    return item(record_id, name=name, modified=modified)


# record pairs

def test_deleted_on_both_sides_forgets_the_pair() -> None:
    assert run(crm_deleted=("c1",), desk_deleted=("d1",)) == [("unlink", None, "c1", "d1")]


def test_crm_delete_with_propagate_deletes_in_desk() -> None:
    assert run(PROPAGATE, crm_deleted=("c1",)) == [("delete", "desk", "c1", "d1")]


def test_crm_delete_loses_to_a_desk_edit_which_is_recreated_in_crm() -> None:
    assert run(PROPAGATE, crm_deleted=("c1",), desk=(edited("d1"),)) == [
        ("create", "crm", None, "d1")]


def test_crm_delete_one_way_propagate_with_desk_edit_only_unlinks() -> None:
    policy = Policy("one-way", "crm-wins", "propagate")
    assert run(policy, crm_deleted=("c1",), desk=(edited("d1"),)) == [
        ("unlink", "desk", "c1", "d1")]


def test_crm_delete_with_unlink_keeps_the_desk_record() -> None:
    assert run(crm_deleted=("c1",)) == [("unlink", "desk", "c1", "d1")]


def test_desk_delete_with_propagate_deletes_in_crm() -> None:
    assert run(PROPAGATE, desk_deleted=("d1",)) == [("delete", "crm", "c1", "d1")]


def test_one_way_never_deletes_in_crm() -> None:
    policy = Policy("one-way", "crm-wins", "propagate")
    assert run(policy, desk_deleted=("d1",)) == [("unlink", "crm", "c1", "d1")]


def test_desk_delete_loses_to_a_crm_edit_which_is_recreated_in_desk() -> None:
    assert run(PROPAGATE, desk_deleted=("d1",), crm=(edited("c1"),)) == [
        ("create", "desk", "c1", None)]


def test_desk_delete_with_unlink_keeps_the_crm_record() -> None:
    assert run(desk_deleted=("d1",)) == [("unlink", "crm", "c1", "d1")]


def test_an_open_conflict_stays_while_other_fields_flow() -> None:
    open_ = {"c1": {"Last_Name": ("Crm", "Desk")}}
    policy = Policy("bidirectional", "manual", "unlink")
    crm = item("c1", name="Crm", Phone="+1 9", modified="2026-01-02T00:00:00Z")
    actions = plan(PlanInput(M, policy, {"c1": PAIR}, Changes({"c1": crm}), Changes(),
                             conflicts=open_))
    assert [(a.kind, a.target, a.values) for a in actions] == [
        ("conflict", None, {}), ("update", "desk", {"Phone": "+1 9"})]
    assert actions[0].conflicts == {"Last_Name": ("Crm", "Desk")}


def test_an_open_conflict_closes_when_both_sides_agree() -> None:
    open_ = {"c1": {"Last_Name": ("Crm", "Desk")}}
    policy = Policy("bidirectional", "manual", "unlink")
    desk = item("d1", name="Crm", modified="2026-01-02T00:00:00Z")
    [settle] = plan(PlanInput(M, policy, {"c1": PAIR}, Changes(), Changes({"d1": desk}),
                              conflicts=open_))
    assert settle.kind == "settle" and settle.closes and not settle.conflicts
    assert settle.pair is not None and settle.pair.base["Last_Name"] == "Crm"


def test_both_changed_to_the_same_values_is_no_conflict() -> None:
    inp = PlanInput(M, TWO_WAY, {"c1": PAIR}, Changes({"c1": edited("c1")}),
                    Changes({"d1": edited("d1")}))
    [settle] = plan(inp)  # only the new base is recorded: nothing to write
    assert settle.kind == "settle" and settle.pair is not None
    assert settle.pair.base["Last_Name"] == "Bo" and not settle.pair.held


@pytest.mark.parametrize("conflict,expected", [
    ("crm-wins", ("update", "desk", "c1", "d1")),
    ("desk-wins", ("update", "crm", "c1", "d1")),
    ("newest", ("update", "crm", "c1", "d1")),  # the Desk edit is newer
    ("manual", ("conflict", None, "c1", "d1")),
])
def test_both_changed_differently_goes_to_the_policy(conflict: str, expected: tuple) -> None:
    policy = Policy("bidirectional", conflict, "unlink")
    crm = edited("c1", "Crm", "2026-01-02T00:00:00Z")
    desk = edited("d1", "Desk", "2026-01-03T00:00:00Z")
    assert run(policy, crm=(crm,), desk=(desk,)) == [expected]


def test_newest_takes_crm_on_a_tie() -> None:
    crm, desk = edited("c1", "Crm"), edited("d1", "Desk")
    assert run(crm=(crm,), desk=(desk,)) == [("update", "desk", "c1", "d1")]


def test_one_way_both_changed_crm_wins() -> None:
    assert run(ONE_WAY, crm=(edited("c1", "Crm"),), desk=(edited("d1", "Desk"),)) == [
        ("update", "desk", "c1", "d1")]


def test_crm_change_updates_desk() -> None:
    assert run(crm=(edited("c1"),)) == [("update", "desk", "c1", "d1")]


def test_desk_change_updates_crm_both_ways() -> None:
    assert run(desk=(edited("d1"),)) == [("update", "crm", "c1", "d1")]


def test_one_way_desk_change_is_overwritten_with_the_crm_values() -> None:
    assert run(ONE_WAY, desk=(edited("d1"),), current={("crm", "c1"): BASE}) == [
        ("update", "desk", "c1", "d1")]


def test_a_modified_time_bump_with_the_same_values_is_no_change() -> None:
    bumped = item("c1", modified="2026-05-05T00:00:00Z")
    assert run(crm=(bumped,), desk=(item("d1", modified="2026-05-05T00:00:00Z"),)) == []


# records the other side does not know yet

def test_new_crm_record_without_a_match_is_created_in_desk() -> None:
    new = item("c2", email="new@x.example")
    assert run(crm=(new,)) == [("create", "desk", "c2", None)]


def test_new_desk_record_is_created_in_crm_both_ways_only() -> None:
    new = item("d2", email="new@x.example")
    assert run(desk=(new,)) == [("create", "crm", None, "d2")]
    assert run(ONE_WAY, desk=(new,)) == []


def test_match_with_equal_values_only_links() -> None:
    crm, desk = item("c2", email="m@x.example"), item("d2", email="m@x.example")
    key = "m@x.example"
    assert run(crm=(crm,), desk=(desk,), candidates={("crm", key): [crm],
                                                     ("desk", key): [desk]}) == [
        ("link", None, "c2", "d2")]


def test_match_fills_blanks_on_both_sides() -> None:
    crm = item("c2", email="m@x.example", Phone=None, Title="Boss")
    desk = item("d2", email="m@x.example", Phone="+1 5", Title=None)
    key = "m@x.example"
    actions = run(crm=(crm,), desk=(desk,), candidates={("crm", key): [crm],
                                                        ("desk", key): [desk]})
    assert actions == [("link", None, "c2", "d2"), ("update", "desk", "c2", "d2"),
                       ("update", "crm", "c2", "d2")]


def test_match_with_different_values_under_manual_is_a_conflict() -> None:
    policy = Policy("bidirectional", "manual", "unlink")
    crm, desk = item("c2", email="m@x.example"), item("d2", email="m@x.example", name="Other")
    key = "m@x.example"
    assert run(policy, crm=(crm,), desk=(desk,), candidates={("crm", key): [crm],
                                                             ("desk", key): [desk]}) == [
        ("conflict", None, "c2", "d2")]


def test_ambiguous_match_is_reported_not_merged() -> None:
    crm = item("c2", email="dup@x.example")
    desks = [item("d2", email="dup@x.example"), item("d3", email="DUP@x.example".lower())]
    actions = run(ONE_WAY, crm=(crm,), candidates={("desk", "dup@x.example"): desks})
    assert actions == [("problem", "crm", "c2", None)]


def test_an_interrupted_create_is_linked_not_created_again() -> None:
    crm = item("c2", email=None)  # no email: nothing to match by
    made = item("d9", email=None)
    assert run(crm=(crm,), recovered={("crm", "c2"): (made, made.values)},
               reserved={("desk", "d9")}, desk=(made,)) == [("link", None, "c2", "d9")]


def test_a_record_kept_apart_after_an_unlink_is_not_recreated() -> None:
    assert run(desk=(item("d5", email="k@x.example"),), unlinked={("desk", "d5")}) == []
