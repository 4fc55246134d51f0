from __future__ import annotations


def test_seed_reports_counts_and_info_shows_portals_with_keys(run) -> None:
    result = run("sandbox", "seed", "--contacts", "4", "-o", "json")
    assert result.exit_code == 0, result.stderr
    added = {row["kind"]: row["added"] for row in result.json()}
    assert added["Contacts"] == 4
    info = run("sandbox", "info", "-o", "json").json()
    assert {p["name"] for p in info["portals"]} == {"acme-support", "acme-labs", "globex-help"}
    assert all(p["zsc_key"].startswith("zsc-") for p in info["portals"])
    assert info["crm_records"]["Contacts"] == 4


def test_negative_count_is_refused(run) -> None:
    result = run("sandbox", "seed", "--contacts", "-1")
    assert result.exit_code == 1
    assert "--contacts must not be negative" in result.stderr
    assert run("sandbox", "info", "-o", "json").json()["crm_records"] == {}


def test_crm_create_update_delete(seeded) -> None:
    created = seeded("sandbox", "crm", "create", "Contacts", "Last_Name=Doe",
                     "Email=jane@doe.example", "-o", "json")
    assert created.exit_code == 0, created.stderr
    record = created.json()
    updated = seeded("sandbox", "crm", "update", "Contacts", record["id"], "Phone=+49 1",
                     "-o", "json").json()
    assert updated["Phone"] == "+49 1" and updated["Email"] == "jane@doe.example"
    deleted = seeded("sandbox", "crm", "delete", "Contacts", record["id"])
    assert deleted.exit_code == 0
    again = seeded("sandbox", "crm", "delete", "Contacts", record["id"])
    assert again.exit_code == 1
    assert again.stderr.strip() == f"Error: no Contacts record with id {record['id']}"


def test_crm_validation_errors_change_nothing(seeded) -> None:
    before = len(seeded("sandbox", "crm", "list", "Contacts", "-o", "json").json())
    result = seeded("sandbox", "crm", "create", "Contacts", "Last_Name=X", "Email=not-mail")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "invalid email address 'not-mail'" in result.stderr
    bad_pair = seeded("sandbox", "crm", "create", "Contacts", "Last_Name")
    assert bad_pair.exit_code == 2 and "expected FIELD=VALUE, got 'Last_Name'" in bad_pair.stderr
    assert len(seeded("sandbox", "crm", "list", "Contacts", "-o", "json").json()) == before


def test_wrong_id_and_module(seeded) -> None:
    result = seeded("sandbox", "crm", "update", "Contacts", "123", "Title=x")
    assert (result.exit_code, result.stderr.strip()) == (1, "Error: no Contacts record with id 123")
    result = seeded("sandbox", "desk", "update", "tickets", "123", "status=Closed")
    assert result.exit_code == 1 and "no Desk ticket with id 123" in result.stderr
    result = seeded("sandbox", "desk", "list", "tikets")
    assert result.exit_code == 2


def test_empty_sandbox_says_how_to_fill_it(run) -> None:
    result = run("sandbox", "desk", "list", "tickets")
    assert result.exit_code == 1
    assert "run 'deskctl sandbox seed' first" in result.stderr


def test_desk_records_and_customer_activity(seeded) -> None:
    contact = seeded("sandbox", "desk", "create", "contacts", "lastName=Roe",
                     "email=roe@x.example", "-o", "json").json()
    ticket = seeded("sandbox", "desk", "create", "tickets", "subject=Help",
                    f"contactId={contact['id']}", "-o", "json").json()
    assert ticket["status"] == "Open"
    result = seeded("sandbox", "customer", "reply", ticket["id"], "--text", "-", "-o", "json",
                    input="Still broken\n")
    assert result.exit_code == 0, result.stderr
    assert result.json()["kind"] == "customer-reply"
    assert result.json()["author"] == "roe@x.example"
    rated = seeded("sandbox", "customer", "rate", ticket["id"], "good", "-o", "json").json()
    assert rated["rating"] == "good"
    bad = seeded("sandbox", "customer", "rate", ticket["id"], "great")
    assert bad.exit_code == 2


def test_reset_starts_over(seeded) -> None:
    refused = seeded("sandbox", "reset")  # no terminal to ask on: --yes is needed
    assert refused.exit_code == 2 and refused.stdout == ""
    assert "pass --yes (there is no terminal to ask on)" in refused.stderr
    assert seeded("sandbox", "info", "-o", "json").json()["portals"] != []
    result = seeded("sandbox", "reset", "--yes", "-o", "json")
    assert result.exit_code == 0
    assert result.json()["removed"].endswith("sandbox.db")
    assert seeded("sandbox", "info", "-o", "json").json()["portals"] == []
    assert seeded("audit", "-o", "json").json()[0]["action"] == "sandbox.reset"
