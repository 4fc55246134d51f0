"""`deskctl ticket`, `stats` and `signals` through the CLI, on a small hand-made world."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

T0 = "2026-03-02T09:00:00Z"


class World:
    """Acme portal linked; a CRM contact and account with a Desk contact; agents in every
    role: admin@ (Desk admin), omar@ (agent), lena@ (light-agent), priya@ (no Desk account)."""

    def __init__(self, run: Any) -> None:
        self.run = run

    def ok(self, *args: str, **kwargs: Any) -> Any:
        result = self.run(*args, "-o", "json", **kwargs)
        assert result.exit_code == 0, (args, result.stderr)
        return result.json() if result.stdout.strip() else None

    def at(self, when: str, *args: str) -> Any:
        return self.ok(*args, env={"DESKCTL_NOW": when}) if args else None

    def ticket(self, subject: str = "Broken", when: str = T0, **fields: str) -> str:
        extra = [f"{k}={v}" for k, v in fields.items()]
        return self.at(when, "sandbox", "desk", "create", "tickets", f"subject={subject}",
                       f"contactId={self.desk_contact}", *extra)["id"]


@pytest.fixture
def world(run) -> World:
    w = World(run)
    w.ok("sandbox", "seed", "--accounts", "0", "--contacts", "0", "--leads", "0", "--deals",
         "0", "--tickets", "0")
    w.ok("portal", "connect", "acme-support")
    w.account = w.ok("sandbox", "crm", "create", "Accounts", "Account_Name=Globex")["id"]
    w.contact = w.ok("sandbox", "crm", "create", "Contacts", "First_Name=Kim",
                     "Last_Name=Roe", "Email=kim@roe.example", f"Account_Name={w.account}")["id"]
    w.lead = w.ok("sandbox", "crm", "create", "Leads", "Last_Name=Lee", "Company=Lee Ltd",
                  "Email=lee@lead.example")["id"]
    w.deal = w.ok("sandbox", "crm", "create", "Deals", "Deal_Name=Big renewal",
                  "Stage=Negotiation", "Amount=90000", f"Contact_Name={w.contact}")["id"]
    w.small_deal = w.ok("sandbox", "crm", "create", "Deals", "Deal_Name=Small",
                        "Stage=Proposal", "Amount=500")["id"]
    w.desk_contact = w.ok("sandbox", "desk", "create", "contacts", "firstName=Kim",
                          "lastName=Roe", "email=KIM@roe.example")["id"]
    w.ok("users", "invite", "lena@acme.example", "--role", "light-agent")
    w.ok("sandbox", "accept", "lena@acme.example")
    return w


def test_list_shows_record_tickets_with_deal_and_sorts_by_deal_amount(world: World) -> None:
    big = world.ticket("Big customer", priority="Low")
    small = world.ticket("Small customer", priority="Urgent")
    world.ok("ticket", "link-deal", big, "--deal", world.deal)
    world.ok("ticket", "link-deal", small, "--deal", world.small_deal)
    rows = world.ok("ticket", "list", "--sort", "deal-amount")
    assert [r["id"] for r in rows] == [big, small]
    assert rows[0]["deal"] == {"id": world.deal, "name": "Big renewal", "stage": "Negotiation",
                               "amount": 90000.0}
    by_priority = world.ok("ticket", "list", "--sort", "priority")
    assert [r["id"] for r in by_priority] == [small, big]
    for module, record in (("Contacts", world.contact), ("Accounts", world.account),
                           ("Deals", world.deal)):
        rows = world.ok("ticket", "list", "--module", module, "--record", record)
        assert big in [r["id"] for r in rows], module
    table = world.run("ticket", "list")
    assert "Big renewal (Negotiation, 90,000)" in table.stdout
    assert table.stdout.splitlines()[0].split()[:4] == ["ID", "NUMBER", "SUBJECT", "STATUS"]


def test_list_needs_an_enabled_related_list(world: World) -> None:
    result = world.run("ticket", "list", "--module", "Leads", "--record", world.lead)
    assert result.exit_code == 1
    assert "Leads does not show tickets: enable it" in result.stderr
    world.ok("related-list", "enable", "Leads")
    assert world.ok("ticket", "list", "--module", "Leads", "--record", world.lead) == []


def test_views(world: World) -> None:
    overdue = world.ticket("Late", dueDate="2026-03-01T00:00:00Z")
    closed = world.ticket("Done", status="Closed")
    urgent = world.ticket("Fire", priority="Urgent")
    forwarded = world.ticket("Fwd")
    world.ok("ticket", "forward", forwarded, "--to", "boss@acme.example", "--text", "FYI")
    env = {"DESKCTL_NOW": "2026-03-05T00:00:00Z"}

    def ids(view: str) -> list[str]:
        result = world.run("ticket", "list", "--view", view, "-o", "json", env=env)
        return [r["id"] for r in result.json()] if result.stdout.strip() else []

    assert ids("overdue") == [overdue]
    assert ids("closed") == [closed]
    assert ids("high-priority") == [urgent]
    assert ids("forwarded") == [forwarded]
    assert len(ids("all")) == 4


def test_create_from_a_record_finds_its_contact_and_checks_attachments(world: World,
                                                                      tmp_path: Path) -> None:
    attachment = tmp_path / "log.txt"
    attachment.write_text("error 42\n")
    created = world.ok("ticket", "create", "--module", "Contacts", "--record", world.contact,
                       "--subject", "Cannot log in", "--priority", "High", "--due",
                       "2026-12-01", "--owner", "omar@acme.example", "--attach",
                       str(attachment))
    assert created["contact"] == "Kim Roe <KIM@roe.example>"
    assert created["due"] == "2026-12-01T23:59:59Z" and created["owner"] == "omar@acme.example"
    assert [e["kind"] for e in created["conversation"]] == ["attachment"]
    assert created["conversation"][0]["size"] == 9
    missing = world.run("ticket", "create", "--module", "Contacts", "--record", world.contact,
                        "--subject", "x", "--attach", str(tmp_path / "nope.txt"))
    assert missing.exit_code == 1 and "attachment not found" in missing.stderr
    assert len(world.ok("ticket", "list")) == 1  # nothing was created by the failed call


def test_create_with_a_new_contact_and_on_a_deal(world: World) -> None:
    created = world.ok("ticket", "create", "--module", "Deals", "--record", world.deal,
                       "--subject", "Contract", "--new-contact", "Ann Other <ann@o.example>")
    assert created["contact"] == "Ann Other <ann@o.example>"
    assert created["deals"][0]["id"] == world.deal
    bad = world.run("ticket", "create", "--module", "Deals", "--record", world.deal,
                    "--subject", "x", "--new-contact", "just a name")
    assert bad.exit_code == 1 and "First Last <email>" in bad.stderr


def test_create_by_contact_email_and_unknown_record(world: World) -> None:
    made = world.ok("ticket", "create", "--module", "Accounts", "--record", world.account,
                    "--subject", "Billing", "--contact", "kim@roe.example")
    assert made["contact"].startswith("Kim Roe")
    result = world.run("ticket", "create", "--module", "Contacts", "--record", "123",
                       "--subject", "x")
    assert result.exit_code == 1 and "no Contacts record with id 123" in result.stderr


def test_conversation_in_order_with_text_from_stdin(world: World) -> None:
    ticket = world.ticket()
    world.at("2026-03-02T10:00:00Z", "sandbox", "customer", "reply", ticket, "--text",
             "Still broken")
    world.ok("ticket", "comment", ticket, "--text", "checked logs", "--private",
             env={"DESKCTL_NOW": "2026-03-02T11:00:00Z"})
    reply = world.run("ticket", "reply", ticket, "--text", "-", "--all", "-o", "json",
                      input="Fixed now.\n", env={"DESKCTL_NOW": "2026-03-02T12:00:00Z"})
    assert reply.exit_code == 0, reply.stderr
    assert reply.json()["to"] == ["KIM@roe.example"]
    shown = world.ok("ticket", "show", ticket)
    assert [(e["kind"], e["created_time"]) for e in shown["conversation"]] == [
        ("customer-reply", "2026-03-02T10:00:00Z"), ("comment", "2026-03-02T11:00:00Z"),
        ("reply", "2026-03-02T12:00:00Z")]
    assert shown["conversation"][2]["content"] == "Fixed now.\n"
    outbox = world.ok("sandbox", "outbox")
    assert outbox[0]["to"] == "KIM@roe.example"


def test_update_validates_fields_and_values(world: World) -> None:
    ticket = world.ticket()
    updated = world.ok("ticket", "update", ticket, "priority=High", "due=2026-04-01")
    assert updated["priority"] == "High" and updated["dueDate"] == "2026-04-01T23:59:59Z"
    for args, message in ((["colour=red"], "unknown field 'colour'"),
                          (["priority=Huge"], "invalid value 'Huge'"),
                          (["due=tomorrow"], "invalid due date"),
                          (["ticketNumber=1"], "read-only")):
        result = world.run("ticket", "update", ticket, *args)
        assert result.exit_code == 1, args
        assert message in result.stderr, (args, result.stderr)
    assert world.ok("ticket", "show", ticket)["priority"] == "High"


def test_close_checks_every_id_first(world: World) -> None:
    first, second = world.ticket("A"), world.ticket("B")
    result = world.run("ticket", "close", first, "206833999999999999")
    assert result.exit_code == 1 and "no Desk ticket with id 206833999999999999" in result.stderr
    assert world.ok("ticket", "show", first)["status"] == "Open"
    closed = world.ok("ticket", "close", first, second)
    assert [c["changed"] for c in closed] == [True, True]
    assert [c["changed"] for c in world.ok("ticket", "close", first)] == [False]


def test_delete_needs_yes(world: World) -> None:
    ticket = world.ticket()
    preview = world.run("ticket", "delete", ticket)
    assert preview.exit_code == 0 and "re-run with --yes" in preview.stderr
    assert world.ok("ticket", "show", ticket)["id"] == ticket
    world.ok("ticket", "delete", ticket, "--yes")
    assert world.run("ticket", "show", ticket).exit_code == 1


def test_deal_links_are_idempotent_and_unknown_ids_change_nothing(world: World) -> None:
    ticket = world.ticket()
    assert world.ok("ticket", "link-deal", ticket, "--deal", world.deal)[0]["changed"] is True
    assert world.ok("ticket", "link-deal", ticket, "--deal", world.deal)[0]["changed"] is False
    unknown_deal = world.run("ticket", "link-deal", ticket, "--deal", "5725767999999999999")
    assert unknown_deal.exit_code == 1 and "no Deals record" in unknown_deal.stderr
    other = world.ticket("Other")
    unknown_ticket = world.run("ticket", "link-deal", other, "206833999999999999",
                               "--deal", world.small_deal)
    assert unknown_ticket.exit_code == 1
    assert world.ok("ticket", "show", other)["deals"] == []
    assert world.ok("ticket", "unlink-deal", ticket, "--deal", world.deal)[0]["changed"]
    assert world.ok("ticket", "show", ticket)["deals"] == []


ROLES = {"admin": "admin@acme.example", "agent": "omar@acme.example",
         "light-agent": "lena@acme.example", "no-desk-account": "priya@acme.example"}
ALLOWED = {
    "admin": {"view", "comment", "reply", "forward", "create", "update", "close", "link-deal",
              "unlink-deal", "assign", "delete"},
    "agent": {"view", "comment", "reply", "forward", "create", "update", "close", "link-deal",
              "unlink-deal"},
    "light-agent": {"view", "comment"},
    "no-desk-account": {"comment"},
}


def test_role_matrix_each_role_times_each_action(world: World) -> None:
    for role, email in ROLES.items():
        for action in sorted(ALLOWED["admin"]):
            ticket = world.ticket(f"{role} {action}")
            args = {
                "view": ["ticket", "show", ticket],
                "comment": ["ticket", "comment", ticket, "--text", "hi"],
                "reply": ["ticket", "reply", ticket, "--text", "hi"],
                "forward": ["ticket", "forward", ticket, "--to", "x@y.example", "--text", "fy"],
                "create": ["ticket", "create", "--module", "Contacts", "--record",
                           world.contact, "--subject", "new"],
                "update": ["ticket", "update", ticket, "priority=High"],
                "close": ["ticket", "close", ticket],
                "link-deal": ["ticket", "link-deal", ticket, "--deal", world.deal],
                "unlink-deal": ["ticket", "unlink-deal", ticket, "--deal", world.deal],
                "assign": ["ticket", "assign", ticket, "--to", "omar@acme.example"],
                "delete": ["ticket", "delete", ticket, "--yes"],
            }[action]
            before = world.ok("ticket", "show", ticket)
            result = world.run("--as", email, *args)
            if action in ALLOWED[role]:
                assert result.exit_code == 0, (role, action, result.stderr)
            else:
                assert result.exit_code == 6, (role, action, result.stderr)
                assert f"permission denied: {email}" in result.stderr
                label = "has no active Desk account" if role == "no-desk-account" \
                    else f"is a Desk {role}"
                assert label in result.stderr
                after = world.ok("ticket", "show", ticket)
                assert after["conversation"] == before["conversation"]
                assert after["fields"] == before["fields"]


def test_owner_change_through_update_is_assigning(world: World) -> None:
    ticket = world.ticket()
    result = world.run("--as", "omar@acme.example", "ticket", "update", ticket,
                       "owner=omar@acme.example")
    assert result.exit_code == 6


def test_ticket_commands_need_an_active_integration(world: World) -> None:
    world.ok("integration", "deactivate", "--yes")
    result = world.run("ticket", "list")
    assert result.exit_code == 1 and "integration is not active" in result.stderr


def test_stats_against_hand_computed_values(world: World) -> None:
    # ticket A: created 09:00, first reply 10:30 (1.5 h), closed 13:00 (4 h), rated good
    a = world.ticket("A", when="2026-03-02T09:00:00Z")
    world.at("2026-03-02T10:30:00Z", "ticket", "reply", a, "--text", "on it")
    world.at("2026-03-02T13:00:00Z", "ticket", "close", a)
    world.at("2026-03-02T14:00:00Z", "sandbox", "customer", "rate", a, "good")
    # ticket B: created 09:00, forwarded 09:30 (0.5 h), closed next day 09:00 (24 h), bad
    b = world.ticket("B", when="2026-03-02T09:00:00Z")
    world.at("2026-03-02T09:30:00Z", "ticket", "forward", b, "--to", "x@y.example",
             "--text", "see")
    world.at("2026-03-03T09:00:00Z", "ticket", "close", b)
    world.at("2026-03-03T10:00:00Z", "sandbox", "customer", "rate", b, "bad")
    # ticket C: open, overdue since 03-03, never answered
    world.ticket("C", when="2026-03-02T09:00:00Z", dueDate="2026-03-03T00:00:00Z")
    stats = world.at("2026-03-04T00:00:00Z", "stats")
    assert stats["total_tickets"] == 3 and stats["overdue_tickets"] == 1
    assert stats["avg_first_response_seconds"] == 3600.0  # (5400 + 1800) / 2
    assert stats["avg_resolution_seconds"] == 50400.0  # (14400 + 86400) / 2
    assert stats["ratings"] == {"good": 1, "okay": 0, "bad": 1}
    assert [r["rating"] for r in stats["rated_tickets"]] == ["good", "bad"]
    table = world.run("stats", env={"DESKCTL_NOW": "2026-03-04T00:00:00Z"}).stdout
    assert "avg_first_response  1h 0m" in table and "avg_resolution      14h 0m" in table
    record = world.at("2026-03-04T00:00:00Z", "stats", "--module", "Contacts", "--record",
                      world.contact)
    assert record["total_tickets"] == 3 and record["scope"] == f"Contacts/{world.contact}"


def test_module_without_record_is_a_usage_error(world: World) -> None:
    result = world.run("ticket", "list", "--module", "Contacts")
    assert result.exit_code == 2 and "--module needs --record" in result.stderr


def test_ticket_history_lists_who_changed_what_when(world: World) -> None:
    ticket = world.ticket("Printer", priority="Low")
    world.at("2026-03-02T10:00:00Z", "ticket", "update", ticket, "priority=High",
             "status=Escalated")
    world.at("2026-03-02T11:00:00Z", "ticket", "close", ticket)
    rows = world.ok("ticket", "history", ticket)
    assert [(r["time"], r["event"], r["field"], r["old"], r["new"]) for r in rows] == [
        (T0, "created", "status", None, "Open"), (T0, "created", "priority", None, "Low"),
        (T0, "created", "subject", None, "Printer"),
        ("2026-03-02T10:00:00Z", "updated", "status", "Open", "Escalated"),
        ("2026-03-02T10:00:00Z", "updated", "priority", "Low", "High"),
        ("2026-03-02T11:00:00Z", "updated", "status", "Escalated", "Closed")]
    table = world.run("ticket", "history", ticket)
    assert "Escalated" in table.stdout and "FIELD" in table.stdout.upper()
    missing = world.run("ticket", "history", "206833000000999999")
    assert missing.exit_code == 1 and "no Desk ticket" in missing.stderr
    outsider = world.run("--as", "priya@acme.example", "ticket", "history", ticket)
    assert outsider.exit_code == 6  # viewing tickets needs an active Desk account
