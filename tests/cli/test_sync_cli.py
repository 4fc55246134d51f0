"""`deskctl sync` through the CLI: exit codes, stdout, stderr."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def linked(seeded):
    assert seeded("portal", "connect", "acme-support").exit_code == 0
    return seeded


def test_run_before_configure_is_a_clear_error(linked) -> None:
    result = linked("sync", "run")
    assert result.exit_code == 1
    assert "sync is not configured" in result.stderr


def test_run_without_integration(seeded) -> None:
    result = seeded("sync", "run")
    assert result.exit_code == 1 and "integration is not active" in result.stderr


def test_configure_then_mode_is_fixed(linked) -> None:
    result = linked("sync", "configure", "--mode", "one-way", "-o", "json")
    assert result.exit_code == 0
    assert result.json()["mode"] == "one-way" and result.json()["conflict"] == "crm-wins"
    refused = linked("sync", "configure", "--mode", "bidirectional")
    assert refused.exit_code == 1
    assert "once enabled it can only be paused" in refused.stderr
    policy = linked("sync", "configure", "--on-delete", "propagate")
    assert policy.exit_code == 0 and "Sync settings saved." in policy.stderr


def test_configure_is_admin_only(linked) -> None:
    result = linked("--as", "sam.sales@acme.example", "sync", "configure", "--mode", "one-way")
    assert result.exit_code == 6


def test_default_seed_syncs_cleanly(linked) -> None:
    linked("sync", "configure", "--mode", "bidirectional")
    result = linked("sync", "run", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["outcome"] == "ok" and result.json()["errors"] == 0


def test_messy_seed_run_reports_ambiguous_duplicates_with_exit_3(run) -> None:
    assert run("sandbox", "seed", "--messy").exit_code == 0
    assert run("portal", "connect", "acme-support").exit_code == 0
    linked = run
    linked("sync", "configure", "--mode", "bidirectional")
    dry = linked("sync", "run", "--dry-run")
    assert dry.exit_code == 0
    assert dry.stdout.splitlines()[0].split()[:3] == ["MODULE", "ACTION", "SIDE"]
    assert "Plan:" in dry.stderr
    result = linked("sync", "run", "-o", "json")
    assert result.exit_code == 3
    report = result.json()
    assert report["errors"] > 0 and report["outcome"] == "incomplete"
    assert set(report["api_calls"]) == {"crm", "desk", "crm_reads", "crm_writes", "desk_reads",
                                        "desk_writes", "setup"}
    assert report["modules"]["Contacts"]["counts"]["create->desk"] > 0
    assert "see 'deskctl sync errors'" in result.stderr
    errors = linked("sync", "errors", "-o", "json").json()
    assert all("ambiguous match" in e["message"] for e in errors)
    # fixing the duplicates in the CRM lets the next run finish cleanly
    for error in errors:
        if error["side"] == "crm":
            linked("sandbox", "crm", "delete", "Contacts", error["record_id"])
        else:
            linked("sandbox", "desk", "delete", "contacts", error["record_id"])
    clean = linked("sync", "run")
    assert clean.exit_code == 0, clean.stderr
    assert linked("sync", "errors", "-o", "json").json() == []


def test_status_shows_mode_pairs_and_last_run(linked) -> None:
    linked("sync", "configure", "--mode", "one-way")
    linked("sync", "run")
    status = linked("sync", "status", "-o", "json").json()
    assert status["mode"] == "one-way" and status["state"] == "active"
    assert status["pairs"]["Contacts"] > 0
    assert status["last_run"]["outcome"] in ("ok", "incomplete")
    assert {c["side"] for c in status["cursors"]} >= {"crm", "desk"}
    integration = linked("integration", "status", "-o", "json").json()
    assert integration["sync"]["mode"] == "one-way"
    assert integration["last_sync"]["outcome"] == status["last_run"]["outcome"]


def test_pause_makes_runs_quiet_no_ops(linked) -> None:
    linked("sync", "configure", "--mode", "one-way")
    assert linked("sync", "pause").stderr.strip() == "Sync paused."
    result = linked("sync", "run")
    assert result.exit_code == 0 and result.stdout == ""
    assert "paused; nothing done" in result.stderr
    assert linked("sync", "status", "-o", "json").json()["pairs"] == {}
    assert linked("sync", "resume").stderr.strip() == "Sync resumed."


def test_conflicts_and_resolve(linked) -> None:
    linked("sync", "configure", "--mode", "bidirectional", "--conflict", "manual")
    created = linked("sandbox", "crm", "create", "Contacts", "Last_Name=Twin",
                     "Email=twin@x.example", "-o", "json").json()
    linked("sync", "run", "--module", "Contacts")
    pairs = linked("sync", "status", "-o", "json").json()["pairs"]
    assert pairs["Contacts"] >= 1
    desk = [r for r in linked("sandbox", "desk", "list", "contacts", "-o", "json").json()
            if r.get("email") == "twin@x.example"][0]
    linked("sandbox", "crm", "update", "Contacts", created["id"], "Last_Name=CrmTwin")
    linked("sandbox", "desk", "update", "contacts", desk["id"], "lastName=DeskTwin")
    result = linked("sync", "run", "--module", "Contacts")
    assert result.exit_code == 3
    [conflict] = [c for c in linked("sync", "conflicts", "-o", "json").json()
                  if c["crm_id"] == created["id"]]
    assert linked("sync", "resolve", "999", "--take", "crm").exit_code == 1
    resolved = linked("sync", "resolve", str(conflict["id"]), "--take", "crm", "-o", "json")
    assert resolved.exit_code == 0
    desk_after = [r for r in linked("sandbox", "desk", "list", "contacts", "-o", "json").json()
                  if r["id"] == desk["id"]][0]
    assert desk_after["lastName"] == "CrmTwin"


@pytest.mark.parametrize("value", ["lots", "-5", "10%%", "nan", "%"])
def test_max_delete_is_parsed_before_anything_runs(linked, value: str) -> None:
    linked("sync", "configure", "--mode", "one-way")
    bad = linked("sync", "run", "--max-delete", value)
    assert bad.exit_code == 2 and bad.stdout == ""
    assert "Invalid value for '--max-delete'" in bad.stderr
    status = linked("sync", "status", "-o", "json").json()
    assert status["last_run"] is None and status["pairs"] == {}  # nothing ran


def test_max_delete_guards_propagated_deletions(linked) -> None:
    linked("sync", "configure", "--mode", "one-way", "--on-delete", "propagate")
    assert linked("sync", "run").exit_code in (0, 3)
    contacts = linked("sandbox", "crm", "list", "Contacts", "-o", "json").json()
    for contact in contacts[:5]:
        linked("sandbox", "crm", "delete", "Contacts", contact["id"])
    guarded = linked("sync", "run")
    assert guarded.exit_code == 1 and "more than --max-delete 10%" in guarded.stderr
    assert linked("sync", "status", "-o", "json").json()["last_run"]["outcome"] == "aborted"


@pytest.mark.parametrize("force", [[], ["--force"]])
def test_run_is_admin_only(linked, force: list[str]) -> None:
    linked("sync", "configure", "--mode", "bidirectional")
    desk_before = linked("sandbox", "desk", "list", "contacts", "-o", "json").json()
    result = linked("--as", "sam.sales@acme.example", "sync", "run", *force)
    assert result.exit_code == 6 and result.stdout == ""
    assert "only a CRM administrator may run the sync" in result.stderr
    status = linked("sync", "status", "-o", "json").json()
    assert status["last_run"] is None and status["pairs"] == {}
    assert linked("sandbox", "desk", "list", "contacts", "-o", "json").json() == desk_before


def test_first_configure_needs_a_mode(linked) -> None:
    result = linked("sync", "configure", "--conflict", "newest")
    assert result.exit_code == 2 and "choose the sync mode" in result.stderr


def _dry_then_real(linked, errors: int, conflicts: int) -> dict[str, Any]:
    """A dry run (table and JSON) says what the real run that follows reports it left."""
    before = (linked("sync", "errors", "-o", "json").json(),
              linked("sync", "conflicts", "-o", "json").json())
    table = linked("sync", "run", "--dry-run")
    dry = linked("sync", "run", "--dry-run", "-o", "json")
    assert table.exit_code == dry.exit_code == 0, table.stderr + dry.stderr
    assert (linked("sync", "errors", "-o", "json").json(),
            linked("sync", "conflicts", "-o", "json").json()) == before  # nothing recorded
    real = linked("sync", "run", "-o", "json")
    assert real.exit_code == (3 if errors or conflicts else 0), real.stderr
    report = real.json()
    assert (dry.json()["errors"], dry.json()["conflicts"]) == \
        (report["errors"], report["conflicts"]) == (errors, conflicts)
    assert f"Plan: the run would leave {conflicts} open conflicts, {errors} record " \
           "errors;" in table.stderr
    assert report["errors"] == len(linked("sync", "errors", "-o", "json").json())
    return dry.json()  # type: ignore[no-any-return]


def test_dry_run_counts_what_the_run_would_leave(linked) -> None:
    """Ambiguous matches the plan lists are the run's record errors; a conflict it would
    open, or close, counts as the run's; errors of records matched or deleted go."""
    linked("sync", "configure", "--mode", "bidirectional", "--conflict", "manual")
    _dry_then_real(linked, 0, 1)  # the seed's first link: one pair differs, left open
    pair = linked("sandbox", "crm", "create", "Contacts", "Last_Name=Pair",
                  "Email=pair@dry.example", "Phone=+1 000", "-o", "json").json()["id"]
    _dry_then_real(linked, 0, 1)
    [desk_pair] = [r["id"] for r in linked("sandbox", "desk", "list", "contacts", "-o",
                                           "json").json() if r.get("email") == "pair@dry.example"]
    # two Desk contacts share one CRM contact's email: each of the three is ambiguous
    dup = linked("sandbox", "crm", "create", "Contacts", "Last_Name=Dup",
                 "Email=dup@dry.example", "-o", "json").json()["id"]
    twins = [linked("sandbox", "desk", "create", "contacts", f"lastName=Dup {n}",
                    "email=dup@dry.example", "-o", "json").json()["id"] for n in (1, 2)]
    linked("sandbox", "crm", "update", "Contacts", pair, "Phone=+1 111")
    linked("sandbox", "desk", "update", "contacts", desk_pair, "phone=+1 222")
    plan = _dry_then_real(linked, 3, 2)
    kinds = [a["action"] for a in plan["modules"]["Contacts"]["actions"]]
    assert kinds.count("problem") == 3 and kinds.count("conflict") == 1
    # a run with nothing new leaves the same: the stored ones, not cleared by a dry run
    _dry_then_real(linked, 3, 2)
    # one twin deleted: the other matches (all three errors go), its other name opens a
    # conflict; the CRM takes the Desk phone: the pair's conflict closes
    linked("sandbox", "desk", "delete", "contacts", twins[0])
    linked("sandbox", "crm", "update", "Contacts", pair, "Phone=+1 222")
    plan = _dry_then_real(linked, 0, 2)
    assert [(a["action"], a["desk_id"]) for a in plan["modules"]["Contacts"]["actions"]] == \
        [("settle", desk_pair), ("conflict", twins[1])]
    # that pair's CRM record deleted: the pair ends (unlink), and its conflict with it
    linked("sandbox", "crm", "delete", "Contacts", dup)
    plan = _dry_then_real(linked, 0, 1)
    assert plan["modules"]["Contacts"]["counts"] == {"unlink": 1}
