"""`deskctl plan` / `deskctl apply` with an integration file."""

from __future__ import annotations

from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "integration.yaml"


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "integration.yaml"
    path.write_text(text)
    return str(path)


def test_example_plans_applies_and_is_idempotent(seeded) -> None:
    plan = seeded("plan", "-f", str(EXAMPLE), "--detailed-exitcode", "-o", "json")
    assert plan.exit_code == 2
    items = [c["item"] for c in plan.json()]
    assert items == ["portal", "users/sam.sales@acme.example", "users/lena@acme.example",
                     "sync", "related_lists/Partners", "signals/new-rating"]
    assert seeded("integration", "status", "-o", "json").json()["state"] == "not-set-up"
    applied = seeded("apply", "-f", str(EXAMPLE), "--yes", "-o", "json")
    assert applied.exit_code == 0, applied.stderr
    assert {r["outcome"] for r in applied.json()} == {"done"}
    status = seeded("integration", "status", "-o", "json").json()
    assert status["portal"]["name"] == "acme-support"
    assert status["sync"]["mode"] == "bidirectional"
    assert "Partners" in status["related_lists"] and status["signals"]["new-rating"] is False
    again = seeded("plan", "-f", str(EXAMPLE), "--detailed-exitcode")
    assert again.exit_code == 0 and "No changes" in again.stderr
    second = seeded("apply", "-f", str(EXAMPLE), "--yes", "-o", "json")
    assert second.exit_code == 0 and second.json() == []


def test_apply_without_yes_and_without_a_terminal_changes_nothing(seeded) -> None:
    result = seeded("apply", "-f", str(EXAMPLE))
    assert result.exit_code == 2 and "not applied: pass --yes" in result.stderr
    assert seeded("integration", "status", "-o", "json").json()["state"] == "not-set-up"


def test_rules_hold_and_a_refused_item_does_not_hide_the_others(seeded, tmp_path) -> None:
    seeded("portal", "connect", "acme-support")
    seeded("sync", "configure", "--mode", "bidirectional")
    path = write(tmp_path, "portal: acme-labs\nsync: {mode: one-way}\n"
                           "related_lists: [Accounts, Contacts, Deals, Projects]\n"
                           "users: {nobody@x.example: agent, lena@acme.example: agent}\n"
                           "desk_tab: removed\n")
    plan = seeded("plan", "-f", path, "-o", "json").json()
    refused = {c["item"]: c["refused"] for c in plan if c.get("refused")}
    assert "only one portal can be linked" in refused["portal"]
    assert "can only be paused" in refused["sync/mode"]
    assert "Projects has no enabled email field" in refused["related_lists/Projects"]
    assert "not a CRM user" in refused["users/nobody@x.example"]
    result = seeded("apply", "-f", path, "--yes", "-o", "json")
    assert result.exit_code == 1
    outcomes = {r["item"]: r["outcome"] for r in result.json()}
    assert outcomes["users/lena@acme.example"] == "done"
    assert outcomes["desk_tab"] == "done"
    assert outcomes["portal"] == "failed"
    assert "4 of 6 changes failed" in result.stderr
    status = seeded("integration", "status", "-o", "json").json()
    assert status["portal"]["name"] == "acme-support" and status["desk_tab"] == "removed"


def test_a_rerun_completes_what_failed(seeded, tmp_path) -> None:
    key = next(p["zsc_key"] for p in seeded("sandbox", "info", "-o", "json").json()["portals"]
               if p["name"] == "globex-help")
    path = write(tmp_path, "portal: {connect_other: helen@globex.example}\n"
                           "signals: {new-ticket: false}\n")
    first = seeded("apply", "-f", path, "--yes", "-o", "json")
    assert first.exit_code == 1
    assert [r["outcome"] for r in first.json()] == ["failed", "failed"]
    second = seeded("apply", "-f", path, "--yes", "-o", "json", env={"DESKCTL_ZSC_KEY": key})
    assert second.exit_code == 0, second.stderr
    assert seeded("plan", "-f", path, "--detailed-exitcode",
                  env={"DESKCTL_ZSC_KEY": key}).exit_code == 0


def test_unknown_keys_and_bad_values_name_key_and_line(seeded, tmp_path) -> None:
    path = write(tmp_path, "portal: acme-support\nuser:\n  a@x.example: agent\n"
                           "sync:\n  mode: sideways\n  speed: fast\nsignals: {new-tweet: true}\n")
    result = seeded("plan", "-f", path)
    assert result.exit_code == 1
    assert f"Error: invalid integration file {path}" in result.stderr
    assert "user (line 2): unknown key" in result.stderr
    assert "sync.mode (line 5): expected one of one-way, bidirectional" in result.stderr
    assert "sync.speed (line 6): unknown key" in result.stderr
    assert "signals.new-tweet (line 7): unknown signal kind" in result.stderr


def test_missing_file_and_admin_only(seeded, tmp_path) -> None:
    missing = seeded("plan", "-f", str(tmp_path / "nope.yaml"))
    assert missing.exit_code == 1 and "integration file not found" in missing.stderr
    denied = seeded("--as", "sam.sales@acme.example", "apply", "-f", str(EXAMPLE), "--yes")
    assert denied.exit_code == 6


def test_a_plan_apply_would_refuse_exits_1_and_lists_the_items(seeded, tmp_path) -> None:
    seeded("portal", "connect", "acme-support")
    seeded("sync", "configure", "--mode", "bidirectional")
    path = write(tmp_path, "sync: {mode: one-way}\n"
                           "users: {nobody@x.example: agent, lena@acme.example: agent}\n")
    for flags in ((), ("--detailed-exitcode",)):
        plan = seeded("plan", "-f", path, *flags)
        assert plan.exit_code == 1, plan.stderr
        assert "users/lena@acme.example" in plan.stdout  # the whole plan is still shown
        lines = plan.stderr.strip().splitlines()
        assert lines[0] == "Error: 3 changes, of which apply would refuse 2"
        assert lines[1].startswith("  - users/nobody@x.example: not a CRM user")
        assert lines[2].startswith("  - sync/mode: once enabled")


def test_change_counts_are_singular_and_plural(seeded, tmp_path) -> None:
    seeded("portal", "connect", "acme-support")
    one = seeded("plan", "-f", write(tmp_path, "desk_tab: removed\n"))
    assert one.exit_code == 0
    assert one.stderr.startswith("1 change; 'deskctl apply -f ")
    two = seeded("plan", "-f", write(tmp_path, "desk_tab: removed\nsignals: {new-rating: false}\n"))
    assert two.stderr.startswith("2 changes; ")


def test_dash_reads_the_file_from_stdin(seeded) -> None:
    text = EXAMPLE.read_text()
    plan = seeded("plan", "-f", "-", "-o", "json", input=text)
    assert plan.exit_code == 0, plan.stderr
    assert len(plan.json()) == 6
    unasked = seeded("apply", "-f", "-", input=text)  # stdin holds the file: nobody to ask
    assert unasked.exit_code == 2 and "pass --yes" in unasked.stderr
    applied = seeded("apply", "-f", "-", "--yes", "-o", "json", input=text)
    assert applied.exit_code == 0, applied.stderr
    assert {r["outcome"] for r in applied.json()} == {"done"}
    assert seeded("plan", "-f", "-", "--detailed-exitcode", input=text).exit_code == 0
    bad = seeded("plan", "-f", "-", input="portal: [1, 2\n")
    assert bad.exit_code == 1 and bad.stderr.startswith("Error: <stdin>: line ")
