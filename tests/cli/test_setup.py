"""Setup and administration commands through the CLI: exit code, stdout, stderr."""

from __future__ import annotations

import pytest


@pytest.fixture
def linked(seeded):
    assert seeded("portal", "connect", "acme-support").exit_code == 0
    return seeded


def globex_key(run) -> str:
    portals = run("sandbox", "info", "-o", "json").json()["portals"]
    return next(p["zsc_key"] for p in portals if p["name"] == "globex-help")


def test_portal_list(seeded) -> None:
    result = seeded("portal", "list", "-o", "json")
    assert result.exit_code == 0
    assert [p["name"] for p in result.json()] == ["acme-support", "acme-labs"]
    table = seeded("portal", "list")
    assert table.stdout.splitlines()[0].split() == ["ID", "NAME", "ADMIN", "LINKED"]


def test_connect_prints_the_portal_and_a_message(seeded) -> None:
    result = seeded("portal", "connect", "acme-support", "-o", "json")
    assert result.exit_code == 0
    assert result.json()["portal"] == "acme-support"
    assert result.stderr.strip() == "Linked portal acme-support."


def test_connect_unknown_portal(seeded) -> None:
    result = seeded("portal", "connect", "nope")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no portal 'nope' among the portals you administer")


def test_connect_other_with_a_wrong_key_links_nothing(seeded) -> None:
    result = seeded("portal", "connect-other", "--admin-email", "helen@globex.example",
                    "--zsc-key-stdin", input="zsc-wrong\n")
    assert result.exit_code == 5
    assert "ZSC key does not match" in result.stderr
    assert "zsc-wrong" not in result.stderr + result.stdout
    assert seeded("integration", "status", "-o", "json").json()["state"] == "not-set-up"


def test_connect_other_reads_the_key_from_the_environment(seeded) -> None:
    key = globex_key(seeded)
    result = seeded("portal", "connect-other", "--admin-email", "helen@globex.example",
                    env={"DESKCTL_ZSC_KEY": key})
    assert result.exit_code == 0, result.stderr
    assert key not in result.stdout + result.stderr
    assert seeded("integration", "status", "-o", "json").json()["portal"]["linked_as"] == "other"


def test_connect_other_without_any_key_source_is_a_usage_error(seeded) -> None:
    result = seeded("portal", "connect-other", "--admin-email", "helen@globex.example")
    assert result.exit_code == 2
    assert "no ZSC key" in result.stderr


def test_switch_without_yes_only_shows_what_would_be_unlinked(linked) -> None:
    result = linked("portal", "switch", "acme-labs")
    assert result.exit_code == 0
    assert "Switch from acme-support to acme-labs unlinks:" in result.stderr
    assert "re-run with --yes" in result.stderr
    assert [line.split()[0] for line in result.stdout.splitlines()[2:]] == [
        "Leads", "Contacts", "Accounts"]
    assert linked("integration", "status", "-o", "json").json()["portal"]["name"] == \
        "acme-support"


def test_status_json_shape(linked) -> None:
    status = linked("integration", "status", "-o", "json").json()
    assert set(status) == {"state", "portal", "set_up_by", "set_up_at", "credentials_owner",
                           "sync", "related_lists", "signals", "desk_tab", "last_sync"}
    assert status["sync"] == {"mode": None, "state": "not-configured", "conflict": None,
                              "on_delete": None}
    assert status["set_up_by"] == "admin@acme.example"
    assert status["desk_tab"] == "shown"


def test_status_before_setup(seeded) -> None:
    result = seeded("integration", "status")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].split() == ["state", "not-set-up"]


def test_deactivate_preview_and_commands_after(linked) -> None:
    preview = linked("integration", "deactivate")
    assert preview.exit_code == 0 and "re-run with --yes" in preview.stderr
    assert linked("integration", "deactivate", "--yes").exit_code == 0
    for args in (("users", "list"), ("related-list", "list"), ("tab", "status"),
                 ("signals", "configure", "--disable", "new-rating")):
        result = linked(*args)
        assert result.exit_code == 1, args
        assert "integration is not active" in result.stderr


def test_non_admin_gets_exit_6_naming_the_profile(linked) -> None:
    for args in (("portal", "list"), ("users", "invite", "lena@acme.example", "--role",
                                      "agent"), ("tab", "remove"),
                 ("related-list", "enable", "Leads"), ("integration", "deactivate", "--yes")):
        result = linked("--as", "omar@acme.example", *args)
        assert result.exit_code == 6, args
        assert "permission denied: omar@acme.example has the CRM profile 'Standard'" in \
            result.stderr
    assert linked("integration", "status", "-o", "json").json()["state"] == "active"


def test_users_invite_reports_each_user_and_fails_when_one_failed(linked) -> None:
    result = linked("users", "invite", "sam.sales@acme.example", "nobody@x.example",
                    "--role", "agent", "-o", "json")
    assert result.exit_code == 1
    assert [r["outcome"] for r in result.json()] == ["invited", "failed"]
    assert "1 of 2 users could not be invited" in result.stderr
    assert "nobody@x.example: not a CRM user" in result.stderr
    outbox = linked("sandbox", "outbox", "-o", "json").json()
    assert [m["to"] for m in outbox] == ["sam.sales@acme.example"]
    again = linked("users", "invite", "sam.sales@acme.example", "--role", "agent", "-o", "json")
    assert again.exit_code == 0
    assert again.json()[0]["outcome"] == "already-invited"


def test_invited_user_becomes_active_after_accepting(linked) -> None:
    linked("users", "invite", "lena@acme.example", "--role", "light-agent")
    assert linked("sandbox", "accept", "lena@acme.example").exit_code == 0
    rows = {r["email"]: r for r in linked("users", "list", "-o", "json").json()}
    assert rows["lena@acme.example"]["desk_status"] == "active"
    assert rows["lena@acme.example"]["both_sides"] is True
    again = linked("users", "invite", "lena@acme.example", "--role", "agent")
    assert again.exit_code == 1 and "already an active agent" in again.stderr


def test_invite_with_a_bad_role_is_a_usage_error(linked) -> None:
    result = linked("users", "invite", "lena@acme.example", "--role", "boss")
    assert result.exit_code == 2


def test_set_role(linked) -> None:
    result = linked("users", "set-role", "omar@acme.example", "--role", "admin", "-o", "json")
    assert result.exit_code == 0 and result.json()["previous"] == "agent"
    missing = linked("users", "set-role", "priya@acme.example", "--role", "agent")
    assert missing.exit_code == 1 and "invite them first" in missing.stderr


def test_related_list_enable_refusal_names_the_missing_email_field(linked) -> None:
    result = linked("related-list", "enable", "Projects")
    assert result.exit_code == 1
    assert result.stderr.strip() == ("Error: cannot show tickets in Projects: Projects has no "
                                     "enabled email field (only modules with an enabled email "
                                     "field can be enabled)")
    ok = linked("related-list", "enable", "Leads")
    assert ok.exit_code == 0 and ok.stderr.strip() == "Tickets are now shown in Leads."
    rows = {r["module"]: r for r in linked("related-list", "list", "-o", "json").json()}
    assert rows["Leads"]["enabled"] is True and rows["Projects"]["eligible"] is False


def test_signals_configure_output(linked) -> None:
    result = linked("signals", "configure", "--disable", "new-rating", "-o", "json")
    assert result.exit_code == 0
    assert result.json()["new-rating"] is False and result.json()["new-ticket"] is True
    bad = linked("signals", "configure", "--enable", "new-tweet")
    assert bad.exit_code == 2


def test_tab_commands(linked) -> None:
    assert linked("tab", "remove").stderr.strip() == "Removed the Desk tab."
    assert linked("tab", "remove").stderr.strip() == "The Desk tab is already removed."
    assert linked("tab", "status", "-o", "json").json()["desk_tab"] == "removed"
    assert linked("tab", "restore").exit_code == 0


def test_every_change_lands_in_the_audit_log(linked) -> None:
    linked("users", "invite", "lena@acme.example", "--role", "agent")
    linked("related-list", "enable", "Leads")
    linked("signals", "configure", "--disable", "new-rating")
    linked("tab", "remove")
    actions = [e["action"] for e in linked("audit", "-o", "json").json()]
    assert actions[:5] == ["tab.remove", "signals.configure", "related-list.enable",
                           "users.invite", "portal.connect"]
