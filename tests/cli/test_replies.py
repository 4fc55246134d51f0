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
