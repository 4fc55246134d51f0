"""Validate first (issue 13 items 1, 4 and 10): options are checked before any work, with
the documented exit code and one line naming the option; changing commands print their
resulting object with -o json; destructive sandbox reset asks or needs --yes."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from typing import Any

import pytest

GHOST = "ghost@nowhere.example"
READS = [("users", "list"), ("stats",), ("signals", "list"), ("integration", "status"),
         ("sync", "status"), ("audit",), ("ticket", "list"), ("related-list", "list")]


@pytest.fixture
def linked(seeded) -> Any:
    assert seeded("portal", "connect", "acme-support").exit_code == 0
    return seeded


def _usage(result: Any, *needles: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert result.stdout == ""
    for needle in needles:
        assert needle in result.stderr


@pytest.mark.parametrize("command", READS)
def test_as_must_be_a_user_of_the_backend(linked, command) -> None:
    before = linked("audit", "-o", "json").json()
    _usage(linked("--as", GHOST, *command), f"--as {GHOST}", "not a CRM user")
    assert linked("audit", "-o", "json").json() == before


def test_as_from_the_config_names_where_it_came_from(linked) -> None:
    result = linked("sync", "status", env={"DESKCTL_USER": GHOST})
    assert result.exit_code == 1 and result.stdout == ""
    assert f"user {GHOST} (from env DESKCTL_USER)" in result.stderr


def test_sandbox_commands_act_as_the_outside_world(linked) -> None:
    for command in (("sandbox", "info"), ("config", "show"), ("auth", "status"),
                    ("state", "check")):
        assert linked("--as", GHOST, *command).exit_code == 0, command
    assert linked("--as", "omar@acme.example", "users", "list").exit_code == 0


@pytest.mark.parametrize("flag", ["--as", "--profile"])
def test_an_empty_flag_is_a_usage_error(linked, flag) -> None:
    _usage(linked(flag, "", "sync", "status"), f"{flag} needs a value")
    _usage(linked(flag, "  ", "audit"), f"{flag} needs a value")


@pytest.mark.parametrize("command", [("audit",), ("config", "show"), ("sync", "status"),
                                     ("users", "list"), ("sandbox", "info"),
                                     ("integration", "status"), ("auth", "status")])
def test_a_bad_deskctl_now_is_an_error_for_every_command(linked, command) -> None:
    result = linked(*command, env={"DESKCTL_NOW": "notatime"})
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.strip() == ("Error: DESKCTL_NOW is not an ISO 8601 time: "
                                     "'notatime'")


@pytest.mark.parametrize("command", [("stats",), ("ticket", "list"), ("signals", "list")])
def test_record_and_module_go_together(linked, command) -> None:
    _usage(linked(*command, "--record", "5725767000000000041"), "--record needs --module")
    _usage(linked(*command, "--module", "Contacts"), "--module needs --record")


@pytest.fixture
def ticket(linked) -> str:
    contact = linked("sandbox", "crm", "list", "Contacts", "-o", "json").json()[0]["id"]
    created = linked("ticket", "create", "--module", "Contacts", "--record", contact,
                     "--subject", "Printer on fire", "--new-contact", "Pat Doe <pat@doe.example>",
                     "-o", "json")
    assert created.exit_code == 0, created.stderr
    return str(created.json()["id"])


@pytest.mark.parametrize("blank", ["subject=", "contact=", "subject=   "])
def test_update_cannot_blank_a_required_field(linked, ticket, blank) -> None:
    before = linked("ticket", "show", ticket, "-o", "json").json()
    result = linked("ticket", "update", ticket, blank, "priority=High")
    assert result.exit_code == 1 and result.stdout == ""
    assert "required field" in result.stderr
    assert linked("ticket", "show", ticket, "-o", "json").json() == before


def test_a_malformed_assignment_is_a_usage_error(linked, ticket) -> None:
    before = linked("ticket", "show", ticket, "-o", "json").json()
    _usage(linked("ticket", "update", ticket, "priority=High", "subject"),
           "expected FIELD=VALUE, got 'subject'")
    _usage(linked("ticket", "update", ticket, "=High"), "expected FIELD=VALUE, got '=High'")
    assert linked("ticket", "show", ticket, "-o", "json").json() == before


def test_create_owner_follows_the_assign_rule(linked) -> None:
    contact = linked("sandbox", "crm", "list", "Contacts", "-o", "json").json()[0]["id"]
    tickets = len(linked("sandbox", "desk", "list", "tickets", "-o", "json").json())
    contacts = len(linked("sandbox", "desk", "list", "contacts", "-o", "json").json())
    result = linked("--as", "omar@acme.example", "ticket", "create", "--module", "Contacts",
                    "--record", contact, "--subject", "x", "--owner", "dana.desk@acme.example",
                    "--new-contact", "New Person <new@person.example>")
    assert result.exit_code == 6 and result.stdout == ""
    assert "is a Desk agent and may not assign" in result.stderr
    assert len(linked("sandbox", "desk", "list", "tickets", "-o", "json").json()) == tickets
    assert len(linked("sandbox", "desk", "list", "contacts", "-o", "json").json()) == contacts
    allowed = linked("ticket", "create", "--module", "Contacts", "--record", contact,
                     "--subject", "x", "--owner", "omar@acme.example", "--new-contact",
                     "New Person <new@person.example>", "-o", "json")
    assert allowed.exit_code == 0, allowed.stderr
    assert allowed.json()["owner"] == "omar@acme.example"


def test_the_last_desk_admin_is_demoted_only_with_force(linked, tmp_path) -> None:
    admin = "admin@acme.example"
    refused = linked("users", "set-role", admin, "--role", "agent")
    assert refused.exit_code == 1 and refused.stdout == ""
    assert "only active Desk admin" in refused.stderr and "--force" in refused.stderr
    roles = {u["email"]: u["role"] for u in linked("users", "list", "-o", "json").json()}
    assert roles[admin] == "admin"
    desired = tmp_path / "integration.yaml"
    desired.write_text(f"users:\n  {admin}: light-agent\n")
    plan = linked("plan", "-f", str(desired), "-o", "json")
    assert plan.exit_code == 1
    assert "only active Desk admin" in plan.json()[0]["refused"]
    # a second admin makes the demotion an ordinary one
    assert linked("users", "set-role", "omar@acme.example", "--role", "admin").exit_code == 0
    assert linked("users", "set-role", admin, "--role", "agent").exit_code == 0
    forced = linked("users", "set-role", "omar@acme.example", "--role", "agent", "--force")
    assert forced.exit_code == 0, forced.stderr


def test_changing_commands_print_the_resulting_object(linked, isolated) -> None:
    assert linked("sync", "configure", "--mode", "one-way").exit_code == 0
    paused = linked("sync", "pause", "-o", "json")
    assert paused.exit_code == 0
    assert paused.json()["paused"] is True and paused.json()["changed"] is True
    assert paused.json()["mode"] == "one-way"
    again = linked("sync", "pause", "-o", "yaml")
    assert "paused: true" in again.stdout and "changed: false" in again.stdout
    assert linked("sync", "resume", "-o", "json").json()["paused"] is False
    removed = linked("tab", "remove", "-o", "json").json()
    assert removed["desk_tab"] == "removed" and removed["changed"] is True
    assert linked("tab", "restore", "-o", "json").json()["desk_tab"] == "shown"
    disabled = linked("related-list", "disable", "Deals", "-o", "json").json()
    assert disabled == {"module": "Deals", "enabled": False, "changed": True}
    assert linked("related-list", "enable", "Deals", "-o", "json").json()["enabled"] is True
    stored = linked("auth", "set", "zsc_key", "--stdin", "-o", "json", input="k-123\n")
    assert stored.json() == {"name": "zsc_key", "profile": "default", "stored_in": "keyring"}
    assert "k-123" not in stored.stdout
    assert linked("auth", "clear", "zsc_key", "-o", "json").json()["changed"] is True
    table = linked("sync", "pause")  # tables: the confirmation on stderr only
    assert table.stdout == "" and table.stderr.strip() == "Sync paused."


def test_sync_errors_limit_and_module(linked) -> None:
    for n in range(3):  # each CRM contact matches two Desk contacts: an ambiguous match
        for first in ("A", "B"):
            assert linked("sandbox", "desk", "create", "contacts", f"firstName={first}",
                          f"lastName=Dup{n}", f"email=dup{n}@twice.example").exit_code == 0
        assert linked("sandbox", "crm", "create", "Contacts", f"Last_Name=Dup{n}",
                      f"Email=dup{n}@twice.example").exit_code == 0
    assert linked("sync", "configure", "--mode", "one-way").exit_code == 0
    assert linked("sync", "run").exit_code == 3
    everything = linked("sync", "errors", "-o", "json").json()
    assert len(everything) >= 3
    two = linked("sync", "errors", "--limit", "2", "-o", "json")
    assert two.json() == everything[:2]
    assert f"Showing 2 of {len(everything)} record errors." in two.stderr
    assert linked("sync", "errors", "--module", "Accounts", "-o", "json").json() == []
    contacts = linked("sync", "errors", "--module", "Contacts", "-o", "json").json()
    assert contacts == [e for e in everything if e["module"] == "Contacts"] != []
    _usage(linked("sync", "errors", "--limit", "0"), "--limit")
    _usage(linked("sync", "errors", "--module", "Deals"), "--module")


def _reset_on_a_terminal(answer: str) -> subprocess.CompletedProcess[str]:
    """`deskctl sandbox reset` with a terminal (a pty) on stdin, answering the question."""
    primary, secondary = pty.openpty()
    try:
        os.write(primary, answer.encode())
        return subprocess.run([sys.executable, "-m", "deskctl", "sandbox", "reset"],
                              stdin=secondary, capture_output=True, text=True, timeout=60,
                              env={**os.environ})
    finally:
        os.close(primary)
        os.close(secondary)


def test_sandbox_reset_asks_on_a_terminal(seeded, tmp_path) -> None:
    sandbox = tmp_path / "home" / "default" / "sandbox.db"
    declined = _reset_on_a_terminal("n\n")
    assert declined.returncode == 1
    assert "Delete the sandbox" in declined.stderr and sandbox.exists()
    accepted = _reset_on_a_terminal("y\n")
    assert accepted.returncode == 0, accepted.stderr
    assert "Removed the sandbox" in accepted.stderr and not sandbox.exists()
