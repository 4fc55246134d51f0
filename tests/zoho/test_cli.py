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
    assert "deletions made in Desk are not synced" in result.stderr
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


def test_stats_say_ratings_are_unavailable_on_zoho(run, fake: FakeZoho,
                                                    zoho_credentials) -> None:
    run("--backend", "zoho", "portal", "connect", "acme-support")
    stats = run("--backend", "zoho", "stats", "-o", "json")
    assert stats.exit_code == 0, stats.stderr
    assert stats.json()["ratings"] is None


def test_as_names_the_credentials_owner_or_fails(run, fake: FakeZoho, zoho_credentials) -> None:
    owner = fake.sandbox.crm.current_user().email
    other = run("--backend", "zoho", "--as", "someone@else.example", "portal", "list")
    assert other.exit_code == 2
    assert f"acts as the owner of the credentials ({owner})" in other.stderr
    same = run("--backend", "zoho", "--as", owner.upper(), "portal", "list")
    assert same.exit_code == 0, same.stderr


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
    needed = {s for table in (scopes._CRM, scopes._DESK) for _, _, text in table
              for s in re.findall(r"(?:ZohoCRM|Desk)\.[\w.]+[A-Z]", text)}
    assert needed - consent <= {"ZohoCRM.modules.CREATE", "ZohoCRM.modules.UPDATE",
                                "ZohoCRM.modules.DELETE"}  # all in ZohoCRM.modules.ALL
    assert "ZohoCRM.modules.ALL" in consent
    table = run("auth", "scopes")
    assert "stats and signals" in table.stdout and "Desk.search.READ" in table.stdout
