"""Replies and forwards on the local backend: sent from the department's From address (or
the profile's desk.from_address, when it is one), cc kept as cc, all of it in the outbox."""

from __future__ import annotations

from tests.cli.test_tickets import World
from tests.cli.test_tickets import world as world  # noqa: F401 - the shared fixture

SUPPORT = "support@acme-support.example"  # the seeded portal's Support department


def test_reply_all_keeps_cc_and_sends_from_the_department(world: World) -> None:
    ticket = world.ticket()
    world.ok("ticket", "forward", ticket, "--to", "boss@acme.example", "--text", "fyi")
    world.ok("sandbox", "customer", "reply", ticket, "--text", "any news?")
    reply = world.ok("ticket", "reply", ticket, "--all", "--text", "on it")
    assert reply["to"] == ["KIM@roe.example"] and reply["cc"] == ["boss@acme.example"]
    assert reply["from"] == SUPPORT
    sent = world.ok("sandbox", "outbox")
    assert [(m["from"], m["to"], m["cc"]) for m in sent[:2]] == [
        (SUPPORT, "KIM@roe.example", "boss@acme.example"),
        (SUPPORT, "boss@acme.example", "")]


def test_the_profile_from_address_must_be_one_of_the_department(world: World) -> None:
    ticket = world.ticket()
    before = world.ok("sandbox", "outbox")
    result = world.run("ticket", "reply", ticket, "--text", "hi",
                       env={"DESKCTL_DESK_FROM_ADDRESS": "me@elsewhere.example"})
    assert result.exit_code == 1
    assert "me@elsewhere.example is not a From address of the ticket's department" in \
        result.stderr and SUPPORT in result.stderr
    assert world.ok("sandbox", "outbox") == before
    assert world.ok("ticket", "show", ticket)["conversation"] == []
    sent = world.ok("ticket", "reply", ticket, "--text", "hi",
                    env={"DESKCTL_DESK_FROM_ADDRESS": SUPPORT.upper()})
    assert sent["from"] == SUPPORT.upper()


def test_an_older_sandbox_gets_from_addresses_for_its_departments(tmp_path) -> None:
    import sqlite3

    from deskctl.backends.local import LocalBackend
    from deskctl.backends.local.db import MIGRATIONS

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:  # a sandbox file made before From addresses
        conn.executescript(MIGRATIONS[0])
        conn.execute("INSERT INTO portals VALUES ('1', 'Old Help_Desk', 'a@x.example', 'k', "
                     "'2026-01-01T00:00:00Z')")
        conn.execute("INSERT INTO departments VALUES ('11', '1', 'Support')")
        conn.execute("PRAGMA user_version = 1")
    backend = LocalBackend(path)
    [address] = backend.desk("1").from_addresses("11")
    assert address["address"] == "support@old-help-desk.example" and address["is_active"]
    backend.close()
