"""The CLI on the zoho backend (over the fake Zoho)."""

from __future__ import annotations

from tests.zoho.conftest import FakeZoho


def test_setup_and_sync_commands_work_on_zoho(run, fake: FakeZoho, zoho_credentials) -> None:
    zoho = ("--backend", "zoho")
    portals = run(*zoho, "portal", "list", "-o", "json")
    assert portals.exit_code == 0, portals.stderr
    assert "acme-support" in [p["name"] for p in portals.json()]
    assert run(*zoho, "portal", "connect", "acme-support").exit_code == 0
    status = run(*zoho, "integration", "status", "-o", "json").json()
    assert status["desk_tab"] == "unknown"
    tab = run(*zoho, "tab", "remove")
    assert tab.exit_code == 1 and "Setup > Customization" in tab.stderr
    create = run(*zoho, "portal", "create", "x")
    assert create.exit_code == 1  # one portal already linked: refused before asking Zoho
    fake.sandbox.crm.create_records("Contacts", [{"Last_Name": "Z", "Email": "z@x.example"}])
    assert run(*zoho, "sync", "configure", "--mode", "one-way").exit_code == 0
    result = run(*zoho, "sync", "run")
    assert result.exit_code == 0, result.stderr
    assert "not synced" not in result.stderr  # Desk deletions come from the recycle bin
    assert any(r.data.get("email") == "z@x.example"
               for r in fake.sandbox.desk(fake.sandbox.all_portals()[0].id)
               .list_records("contacts"))


def test_missing_credentials_exit_5(run, fake: FakeZoho) -> None:
    result = run("--backend", "zoho", "portal", "list")
    assert result.exit_code == 5
    assert "deskctl auth set zoho_client_id" in result.stderr


def test_bad_zoho_config_is_reported(run, tmp_path) -> None:
    (tmp_path / "deskctl.yaml").write_text("backend: zoho\nzoho:\n  data_center: moon\n"
                                           "  crm_url: http://10.1.1.1\n")
    result = run("portal", "list")
    assert result.exit_code == 1
    assert "zoho.data_center" in result.stderr or "expected one of" in result.stderr


def test_ticket_work_on_zoho(run, fake: FakeZoho, zoho_credentials, tmp_path) -> None:
    zoho = ("--backend", "zoho")
    run(*zoho, "portal", "connect", "acme-support")
    contact = fake.sandbox.crm.create_records("Contacts", [
        {"Last_Name": "Kim", "Email": "kim@x.example"}])[0].id
    deal = fake.sandbox.crm.create_records("Deals", [
        {"Deal_Name": "Big", "Stage": "Proposal", "Amount": 5000.0}])[0].id
    attachment = tmp_path / "note.txt"
    attachment.write_text("hello")
    created = run(*zoho, "ticket", "create", "--module", "Contacts", "--record", contact,
                  "--subject", "Help", "--new-contact", "Kim Lee <kim@x.example>",
                  "--priority", "High", "--attach", str(attachment), "-o", "json")
    assert created.exit_code == 0, created.stderr
    ticket = created.json()["id"]
    for args in (("comment", ticket, "--text", "looking"),
                 ("reply", ticket, "--text", "fixed"),
                 ("forward", ticket, "--to", "boss@x.example", "--text", "fyi"),
                 ("update", ticket, "status=On Hold"),
                 ("link-deal", ticket, "--deal", deal),
                 ("close", ticket)):
        result = run(*zoho, "ticket", *args)
        assert result.exit_code == 0, (args, result.stderr)
    shown = run(*zoho, "ticket", "show", ticket, "-o", "json").json()
    assert shown["status"] == "Closed" and shown["deals"][0]["id"] == deal
    assert sorted(e["kind"] for e in shown["conversation"]) == ["comment", "forward", "reply"]
    assert run(*zoho, "ticket", "list", "--sort", "deal-amount", "-o", "json").json()[0][
        "deal"]["amount"] == 5000.0


def test_verbose_logs_requests_without_secrets(run, fake: FakeZoho, zoho_credentials) -> None:
    result = run("--backend", "zoho", "-v", "portal", "list")
    assert result.exit_code == 0
    assert "deskctl.http: GET https://desk.zoho.com/api/v1/organizations -> 200" in \
        result.stderr
    for secret in ("client-secret-value", "refresh-token-value", "Zoho-oauthtoken"):
        assert secret not in result.stderr + result.stdout


def test_ratings_history_and_escalations_read_as_on_the_local_backend(
        run, fake: FakeZoho, zoho_credentials) -> None:
    """stats, signals and ticket history on zoho (customerHappiness and History over the
    emulator) say what the local backend says about the same sandbox."""
    assert run("--backend", "zoho", "portal", "connect", "acme-support").exit_code == 0
    portal = next(p for p in fake.sandbox.all_portals() if p.name == "acme-support").id
    desk = fake.sandbox.desk(portal)
    crm_id = fake.sandbox.crm.create_records("Contacts", [
        {"Last_Name": "Kim", "Email": "kim@x.example"}])[0].id
    contact = desk.create_record("contacts", {"lastName": "Kim", "email": "kim@x.example"})
    department = desk.departments()[0]["id"]
    tickets = [desk.create_record("tickets", {"subject": f"T{i}", "contactId": contact.id,
                                              "departmentId": department})
               for i in range(3)]
    desk.add_ticket_event(tickets[0].id, "rating", "kim@x.example", {"rating": "good"})
    desk.add_ticket_event(tickets[1].id, "rating", "kim@x.example", {"rating": "bad"})
    desk.add_ticket_event(tickets[1].id, "rating", "kim@x.example", {"rating": "okay"})
    desk.update_record("tickets", tickets[2].id, {"status": "Escalated", "priority": "High"})
    desk.update_record("tickets", tickets[2].id, {"status": "Open"})
    local = {"DESKCTL_BACKEND": "local", "DESKCTL_LOCAL_PATH": str(fake.sandbox.db.path)}

    def both(*args: str) -> tuple:
        on_zoho = run("--backend", "zoho", *args, "-o", "json")
        on_local = run(*args, "-o", "json", env=local)
        assert on_zoho.exit_code == on_local.exit_code == 0, (on_zoho.stderr, on_local.stderr)
        return on_zoho.json(), on_local.json()

    stats, expected = both("stats")
    assert stats["ratings"] == {"good": 1, "okay": 1, "bad": 0}  # a ticket's latest counts
    assert stats == expected
    record = ("--module", "Contacts", "--record", str(crm_id))
    stats, expected = both("stats", *record)  # one record: its tickets' ratings only
    assert stats["ratings"] == {"good": 1, "okay": 1, "bad": 0} and stats == expected
    signals, expected = both("signals", "list", *record)
    assert len(signals) == 7 and [{**s, "id": None} for s in signals] == \
        [{**s, "id": None} for s in expected]
    signals, expected = both("signals", "list")
    kinds = sorted(s["kind"] for s in signals)
    assert kinds == ["new-rating"] * 3 + ["new-ticket"] * 3 + ["ticket-escalated"]
    assert [{**s, "id": None} for s in signals] == [{**s, "id": None} for s in expected]
    history, expected = both("ticket", "history", tickets[2].id)
    changed = [(r["event"], r["field"], r["old"], r["new"]) for r in history]
    assert ("updated", "status", "Escalated", "Open") in changed
    assert ("updated", "isEscalated", False, True) in changed  # Zoho's flag, from the emulator
    assert [r for r in history if r["field"] != "isEscalated"] == expected
    # one read per portal-wide command; per ticket (3) for one record's stats and signals
    assert fake.count("GET", "/api/v1/customerHappiness") == 2 + 3 + 3


def test_zoho_escalation_events_become_signals(run, fake: FakeZoho, zoho_credentials) -> None:
    import json

    run("--backend", "zoho", "portal", "connect", "acme-support")
    portal = next(p for p in fake.sandbox.all_portals() if p.name == "acme-support").id
    desk = fake.sandbox.desk(portal)
    assert fake.sandbox.crm.create_records("Leads", [{"Last_Name": "Lee", "Company": "Co",
                                                   "Email": "lee@x.example"}])[0].ok
    contact = desk.create_record("contacts", {"lastName": "Lee", "email": "lee@x.example"})
    ticket = desk.create_record("tickets", {"subject": "S", "contactId": contact.id,
                                            "departmentId": desk.departments()[0]["id"]})
    # Zoho's own event (help.zoho.com "Events supported in the Get Ticket History API")
    from datetime import datetime, timedelta, timezone

    when = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(microsecond=0)
    escalated = {"eventName": "TicketEscalated",
                 "eventTime": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                 "actor": {"id": "1", "name": "SLA", "type": "SLA"}, "source": None,
                 "eventInfo": []}
    fake.fail_next("GET", f"/api/v1/tickets/{ticket.id}/History",
                   (200, {"Content-Type": "application/json"},
                    json.dumps({"data": [escalated]}).encode()))
    found = run("--backend", "zoho", "signals", "list", "-o", "json").json()
    escalation = [s for s in found if s["kind"] == "ticket-escalated"]
    assert len(escalation) == 1
    assert escalation[0]["time"] == when.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert escalation[0]["detail"] == "escalated by SLA"


def test_as_names_the_credentials_owner_or_fails(run, fake: FakeZoho, zoho_credentials) -> None:
    owner = fake.sandbox.crm.current_user().email
    other = run("--backend", "zoho", "--as", "someone@else.example", "portal", "list")
    assert other.exit_code == 2
    assert f"acts as the owner of the credentials ({owner})" in other.stderr
    same = run("--backend", "zoho", "--as", owner.upper(), "portal", "list")
    assert same.exit_code == 0, same.stderr
    configured = run("--backend", "zoho", "portal", "list",
                     env={"DESKCTL_USER": "someone@else.example"})
    assert configured.exit_code == 1  # a config problem, named as such
    assert "user (from env DESKCTL_USER)" in configured.stderr, configured.stderr


def test_crm_triggers_are_validated(run, fake: FakeZoho, zoho_credentials) -> None:
    bad = run("--backend", "zoho", "portal", "list",
              env={"DESKCTL_ZOHO_CRM_TRIGGERS": "workflow,macro"})
    assert bad.exit_code == 1
    assert "DESKCTL_ZOHO_CRM_TRIGGERS: expected names from workflow" in bad.stderr
    assert "'macro'" in bad.stderr and fake.requests == []  # nothing sent


def test_auth_scopes_lists_every_scope_a_request_can_need(run) -> None:
    import re

    from deskctl.backends.zoho import scopes

    shown = run("auth", "scopes", "-o", "json")
    assert shown.exit_code == 0
    consent = set(shown.json()["consent"].split(","))
    needed = {s for _, _, text in scopes._RULES
              for s in re.findall(r"(?:ZohoCRM|Desk)\.[\w.]+[A-Z]", text)}
    assert needed - consent <= {"ZohoCRM.modules.CREATE", "ZohoCRM.modules.UPDATE",
                                "ZohoCRM.modules.DELETE"}  # all in ZohoCRM.modules.ALL
    assert "ZohoCRM.modules.ALL" in consent
    table = run("auth", "scopes")
    assert "stats and signals" in table.stdout and "Desk.search.READ" in table.stdout


def test_a_custom_status_of_type_closed_counts_as_closed(run, fake: FakeZoho,
                                                         zoho_credentials) -> None:
    """Desk answers each ticket's statusType (Ticket.json commonResponse, Search.json); a
    portal's own status such as "Resolved" may be of type Closed: closing it again changes
    nothing, it is in the closed view and, though past its due date, not overdue."""
    import json
    import re

    from deskctl.models.tickets import is_closed, status_type

    zoho = ("--backend", "zoho")
    run(*zoho, "portal", "connect", "acme-support")
    desk = fake.sandbox.desk(fake.sandbox.all_portals()[0].id)
    contact = desk.create_record("contacts", {"lastName": "Kim", "email": "kim@x.example"})
    ticket = desk.create_record("tickets", {"subject": "S", "contactId": contact.id,
                                            "departmentId": desk.departments()[0]["id"],
                                            "dueDate": "2020-01-01T00:00:00Z"})
    seen = []

    def resolved(request):  # the emulator's answers, on a portal with a "Resolved" status
        reply = fake.emulator.handle(request.method, request.url, dict(request.headers), None)
        body = json.loads(reply.encoded()) if reply.status == 200 else None
        for raw in ([body] if body and "id" in body else (body or {}).get("data", [])):
            if raw.get("id") == ticket.id:
                seen.append(raw["statusType"])  # the emulator answers it, as Zoho does
                raw.update(status="Resolved", statusType="Closed")
        return reply.status, {"Content-Type": "application/json"}, \
            (json.dumps(body).encode() if body is not None else reply.encoded())

    fake.routes[("GET", r"^/api/v1/tickets(/search|/\d+)?$")] = resolved
    closed = run(*zoho, "ticket", "close", ticket.id, "-o", "json")
    assert closed.exit_code == 0, closed.stderr
    assert closed.json() == [{"id": ticket.id, "number": ticket.data.get("ticketNumber"),
                              "status": "Resolved", "changed": False}]
    assert not any(m == "PATCH" and re.search(rf"/tickets/{ticket.id}$", u)
                   for m, u in fake.requests)
    for view, listed in (("closed", [ticket.id]), ("overdue", [])):
        shown = run(*zoho, "ticket", "list", "--view", view, "-o", "json")
        assert shown.exit_code == 0, shown.stderr
        assert [t["id"] for t in shown.json()] == listed, view
    assert seen and set(seen) == {"Open"}
    assert status_type({"status": "Resolved"}) == "Open"  # no statusType: default types only
    assert is_closed({"status": "Closed"}) and not is_closed({"status": "Escalated"})
    assert not is_closed({"status": "Closed", "statusType": "Open"})  # the type decides


def test_a_sync_run_reads_the_portals_field_metadata_once(run, fake: FakeZoho,
                                                          zoho_credentials) -> None:
    """Every service that asks the backend for the linked portal gets the same Desk client
    for the command, so organizationFields is read once per module, not once per asker."""
    zoho = ("--backend", "zoho")
    assert run(*zoho, "portal", "connect", "acme-support").exit_code == 0
    fake.sandbox.crm.create_records("Contacts", [{"Last_Name": "Z", "Email": "z@x.example"}])
    assert run(*zoho, "sync", "configure", "--mode", "bidirectional").exit_code == 0
    start = len(fake.requests)
    result = run(*zoho, "-o", "json", "sync", "run")
    assert result.exit_code == 0, result.stderr
    fields = [u for m, u in fake.requests[start:] if "/organizationFields" in u]
    assert sorted(u.split("module=")[1].split("&")[0] for u in fields) == [
        "accounts", "contacts"]
