"""The sync engine end to end on the real local backend and state store."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskctl.config import load_config
from deskctl.credentials import CredentialStore
from deskctl.errors import ConfigError, NotActive, RuleViolation, UsageError
from deskctl.services.integration import IntegrationService
from deskctl.services.sync import SyncService
from deskctl.sync.guards import AbortedRun
from tests.sync.conftest import SyncWorld, make_world


def desk_by_email(world: SyncWorld) -> dict[str, dict]:
    return {r.data["email"]: r.data for r in world.desk.list_records("contacts")
            if r.data.get("email")}


def test_first_run_creates_both_ways_and_a_second_run_writes_nothing(world: SyncWorld) -> None:
    acme = world.crm_create("Accounts", Account_Name="Acme GmbH", Phone="+49 1")
    world.crm_create("Contacts", Last_Name="Ames", Email="ames@x.example", Account_Name=acme)
    world.desk.create_record("contacts", {"lastName": "Dee", "email": "dee@x.example"})
    report = world.run()
    assert report["modules"]["Accounts"]["counts"] == {"create->desk": 1}
    assert report["modules"]["Contacts"]["counts"] == {"create->desk": 1, "create->crm": 1}
    desk = desk_by_email(world)
    desk_account = next(iter(world.desk.list_records("accounts")))
    assert desk["ames@x.example"]["accountId"] == desk_account.id  # the link followed
    assert [r.data["Last_Name"] for r in world.crm.list_records("Contacts")] == ["Ames", "Dee"]
    again = world.run()
    assert world.writes(again) == 0
    assert again["modules"]["Contacts"]["counts"] == {}


def test_writes_made_by_the_sync_are_not_echoed_back(world: SyncWorld) -> None:
    cid = world.crm_create("Contacts", Last_Name="Echo", Email="echo@x.example")
    world.run()
    world.crm_update("Contacts", cid, Phone="+1 222")
    assert world.run()["modules"]["Contacts"]["counts"] == {"update->desk": 1}
    assert world.writes(world.run()) == 0
    assert world.crm.get_record("Contacts", cid).data["Phone"] == "+1 222"


def test_matching_links_instead_of_duplicating(world: SyncWorld) -> None:
    world.crm_create("Contacts", Last_Name="Case", Email="Case@X.example", Phone="+1 1")
    world.desk.create_record("contacts", {"lastName": "Case", "email": "case@x.example"})
    world.crm_create("Accounts", Account_Name="Initech")
    world.desk.create_record("accounts", {"accountName": "INITECH"})
    report = world.run()
    assert report["modules"]["Contacts"]["counts"] == {"link": 1, "update->desk": 1}
    assert report["modules"]["Accounts"]["counts"]["link"] == 1
    assert len(list(world.desk.list_records("contacts"))) == 1
    assert desk_by_email(world)["case@x.example"]["phone"] == "+1 1"


def test_ambiguous_matches_are_reported_and_exit_incomplete(world: SyncWorld) -> None:
    world.crm_create("Contacts", Last_Name="A", Email="same@x.example")
    world.crm_create("Contacts", Last_Name="B", Email="same@x.example")
    world.crm_create("Contacts", Last_Name="C", Email="c@x.example")
    report = world.run()
    assert report["errors"] == 2
    assert "ambiguous match" in world.service.errors()[0]["message"]
    assert list(desk_by_email(world)) == ["c@x.example"]


def test_an_ambiguous_match_resolved_into_a_manual_conflict_leaves_no_error(
        tmp_path: Path) -> None:
    """One of two Desk duplicates deleted: the other is linked, and its differing name opens
    a manual conflict; the three records' ambiguous-match errors go all the same (the
    linked ones stayed in 'sync errors' for good)."""
    world = make_world(tmp_path, conflict="manual")
    cid = world.crm_create("Contacts", Last_Name="Ames", Email="same@x.example")
    twins = [world.desk.create_record("contacts", {"lastName": f"Ames {n}",
                                                   "email": "same@x.example"}).id
             for n in (1, 2)]
    assert world.run()["errors"] == 3
    world.desk.delete_record("contacts", twins[0])
    assert world.run(dry_run=True)["errors"] == 0
    report = world.run()
    assert report["modules"]["Contacts"]["counts"] == {"conflict": 1}
    assert (report["errors"], report["conflicts"]) == (0, 1)
    assert world.store.pairs("Contacts")[cid].desk_id == twins[1]
    assert world.service.errors() == []


def test_a_rejected_record_does_not_stop_the_run_and_is_retried(tmp_path: Path,
                                                               monkeypatch) -> None:
    (tmp_path / "deskctl.yaml").write_text(
        "sync:\n  mapping:\n    Contacts: {Last_Name: lastName, Email: email, Title: title}\n")
    world = make_world(tmp_path)
    long_title = "Vice President of Very Long Titles and Other Things"
    bad = world.crm_create("Contacts", Last_Name="Long", Email="long@x.example",
                           Title=long_title)
    world.crm_create("Contacts", Last_Name="Fine", Email="fine@x.example")
    report = world.run()
    assert report["errors"] == 1
    assert report["modules"]["Contacts"]["counts"] == {"create->desk": 1}
    [error] = world.service.errors()
    assert error["record_id"] == bad and "title" in error["message"]
    again = world.run()
    assert again["errors"] == 1 and world.service.errors()[0]["attempts"] == 2
    world.crm_update("Contacts", bad, Title="VP")
    fixed = world.run()
    assert fixed["errors"] == 0 and fixed["modules"]["Contacts"]["counts"] == {"create->desk": 1}


def test_one_way_never_writes_to_crm_and_leaves_desk_only_records(tmp_path: Path) -> None:
    world = make_world(tmp_path, "one-way")
    cid = world.crm_create("Contacts", Last_Name="Master", Email="m@x.example")
    only = world.desk.create_record("contacts", {"lastName": "Desk", "email": "d@x.example"})
    world.run()
    desk_id = world.store.pairs("Contacts")[cid].desk_id
    world.desk.update_record("contacts", desk_id, {"lastName": "Edited in Desk"})
    crm_before = [r.to_dict() for r in world.crm.list_records("Contacts")]
    report = world.run()
    assert report["api_calls"]["crm_writes"] == 0
    assert [r.to_dict() for r in world.crm.list_records("Contacts")] == crm_before
    assert world.desk.get_record("contacts", desk_id).data["lastName"] == "Master"
    assert world.desk.get_record("contacts", only.id).data == only.data


def test_manual_conflicts_wait_for_resolve(tmp_path: Path) -> None:
    world = make_world(tmp_path, conflict="manual")
    cid = world.crm_create("Contacts", Last_Name="Same", Email="s@x.example")
    world.run()
    desk_id = world.store.pairs("Contacts")[cid].desk_id
    world.crm_update("Contacts", cid, Last_Name="From CRM")
    world.desk.update_record("contacts", desk_id, {"lastName": "From Desk"})
    report = world.run()
    assert report["conflicts"] == 1
    [conflict] = world.service.conflicts()
    assert conflict["crm"]["Last_Name"] == "From CRM"
    assert conflict["desk"]["Last_Name"] == "From Desk"
    assert world.run()["conflicts"] == 1  # still waiting, nothing written
    world.service.resolve(conflict["id"], "desk")
    assert world.crm.get_record("Contacts", cid).data["Last_Name"] == "From Desk"
    after = world.run()
    assert after["conflicts"] == 0 and world.writes(after) == 0


def test_propagated_deletes_are_guarded_by_max_delete(tmp_path: Path) -> None:
    world = make_world(tmp_path, on_delete="propagate")
    ids = [world.crm_create("Contacts", Last_Name=f"P{i}", Email=f"p{i}@x.example")
           for i in range(10)]
    world.run()
    world.crm.delete_records("Contacts", ids[:3])
    with pytest.raises(AbortedRun, match="would delete 3 of 10 synced Contacts"):
        world.run()
    assert len(list(world.desk.list_records("contacts"))) == 10  # nothing deleted
    assert world.run(max_delete="3")["modules"]["Contacts"]["counts"] == {"delete->desk": 3}
    assert len(list(world.desk.list_records("contacts"))) == 7


def test_the_delete_guard_counts_each_module_apart(tmp_path: Path) -> None:
    """All 50 Contacts deleted must not pass under the 1,000 Account pairs' 10%."""
    world = make_world(tmp_path, on_delete="propagate")
    for start in range(0, 1000, 100):
        world.crm.create_records("Accounts", [{"Account_Name": f"A{i}"}
                                              for i in range(start, start + 100)])
    ids = [r.id for r in world.crm.create_records("Contacts", [
        {"Last_Name": f"C{i}", "Email": f"c{i}@x.example"} for i in range(50)])]
    world.run()
    world.crm.delete_records("Contacts", ids)
    with pytest.raises(AbortedRun, match="would delete 50 of 50 synced Contacts"):
        world.run()
    assert len(list(world.desk.list_records("contacts"))) == 50  # nothing deleted


def test_force_deletes_past_the_guard(tmp_path: Path) -> None:
    world = make_world(tmp_path, on_delete="propagate")
    ids = [world.crm_create("Contacts", Last_Name=f"F{i}", Email=f"f{i}@x.example")
           for i in range(4)]
    world.run()
    world.crm.delete_records("Contacts", ids)
    assert world.run(force=True)["modules"]["Contacts"]["counts"] == {"delete->desk": 4}


def test_unlink_forgets_the_pair_and_does_not_recreate(world: SyncWorld) -> None:
    cid = world.crm_create("Contacts", Last_Name="Gone", Email="g@x.example")
    world.run()
    world.crm.delete_records("Contacts", [cid])
    assert world.run()["modules"]["Contacts"]["counts"] == {"unlink": 1}
    assert "g@x.example" in desk_by_email(world)
    assert world.writes(world.run(full=True)) == 0  # not re-created from Desk


def test_dry_run_changes_nothing_not_even_the_state(world: SyncWorld) -> None:
    world.crm_create("Contacts", Last_Name="Dry", Email="dry@x.example")
    world.state.close()
    before = (world.state.path.read_bytes(), world.backend.db.path.stat().st_size)
    report = world.run(dry_run=True)
    assert report["modules"]["Contacts"]["counts"] == {"create->desk": 1}
    assert list(world.desk.list_records("contacts")) == []
    world.state.close()
    assert world.state.path.read_bytes() == before[0]
    real = world.run()
    assert real["modules"]["Contacts"]["counts"] == report["modules"]["Contacts"]["counts"]


def test_paused_runs_do_nothing(world: SyncWorld) -> None:
    world.crm_create("Contacts", Last_Name="P", Email="p@x.example")
    world.service.set_paused(True)
    assert world.run() == {"paused": True}
    assert list(world.desk.list_records("contacts")) == []
    world.service.set_paused(False)
    assert world.run()["modules"]["Contacts"]["counts"] == {"create->desk": 1}


def test_mode_is_fixed_once_enabled_but_policies_may_change(world: SyncWorld) -> None:
    with pytest.raises(RuleViolation, match="once enabled it can only be paused"):
        world.service.configure("one-way", None, None)
    changed = world.service.configure(None, "crm-wins", "propagate")
    assert (changed["mode"], changed["conflict"], changed["on_delete"]) == (
        "bidirectional", "crm-wins", "propagate")
    integration = IntegrationService(world.backend, world.state, CredentialStore("default"))
    integration.deactivate(True)
    with pytest.raises(NotActive):
        world.run()
    integration.connect("acme-support")
    assert world.service.configure("one-way", None, None)["mode"] == "one-way"


def test_one_way_refuses_a_conflict_policy(tmp_path: Path) -> None:
    world = make_world(tmp_path, mode=None)
    with pytest.raises(RuleViolation, match="CRM always wins"):
        world.service.configure("one-way", "desk-wins", None)


def test_bad_mapping_is_reported_before_any_run(tmp_path: Path) -> None:
    (tmp_path / "deskctl.yaml").write_text(
        "sync:\n  mapping:\n    Contacts: {Email: email, Shoe: shoeSize, Phone: accountId}\n")
    world = make_world(tmp_path, mode=None)
    with pytest.raises(ConfigError) as err:
        world.service.configure("bidirectional", None, None)
    problems = "\n".join(err.value.problems)
    assert "sync.mapping.Contacts.Shoe: no CRM field 'Shoe'" in problems
    assert "no Desk field 'shoeSize'" in problems
    assert "a phone field cannot map to the lookup field accountId" in problems
    assert "deskctl.yaml" in problems
    assert SyncService(world.backend, world.state, load_config()).settings() is None


def test_no_change_rerun_reads_do_not_grow_with_the_record_count(tmp_path: Path) -> None:
    calls = []
    for n in (5, 200):
        world = make_world(tmp_path / str(n))
        world.crm.create_records("Contacts", [{"Last_Name": f"N{i}", "Email": f"n{i}@x.example"}
                                              for i in range(n)])
        world.run()
        report = world.run()
        assert world.writes(report) == 0
        calls.append(report["api_calls"])
    assert calls[0] == calls[1]
    assert calls[0]["crm"] <= 4 and calls[0]["desk"] <= 4  # list + tombstones per module


@pytest.mark.parametrize("option", [{"on_delete": "keep"}, {"conflict": "latest"},
                                    {"mode": "two-way"}])
def test_configure_refuses_a_value_it_does_not_know(world: SyncWorld,
                                                    option: dict[str, str]) -> None:
    """The service checks its values itself (the CLI's choices are not its only caller):
    'keep' used to be stored and then behave like unlink."""
    before = world.service.settings()
    args = {"mode": None, "conflict": None, "on_delete": None, **option}
    with pytest.raises(UsageError, match="is one of"):
        world.service.configure(args["mode"], args["conflict"], args["on_delete"])
    assert world.service.settings() == before
