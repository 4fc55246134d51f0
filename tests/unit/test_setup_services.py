"""The setup rules in the service layer, on the real local backend and state store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deskctl.backends.local import LocalBackend
from deskctl.backends.local.seed import SeedCounts, seed
from deskctl.credentials import CredentialStore
from deskctl.errors import (
    AuthError,
    NotActive,
    NotFound,
    PermissionDenied,
    RuleViolation,
    ValidationError,
)
from deskctl.services.integration import IntegrationService
from deskctl.services.settings import SettingsService
from deskctl.services.users import UsersService
from deskctl.state import StateStore


class World:
    def __init__(self, tmp_path: Path, acting: str | None = None) -> None:
        self.tmp_path = tmp_path
        self.backend = LocalBackend(tmp_path / "sandbox.db", acting)
        self.state = StateStore(tmp_path / "state.db")
        self.credentials = CredentialStore("default")
        self.integration = IntegrationService(self.backend, self.state, self.credentials)
        self.users = UsersService(self.backend, self.state)
        self.settings = SettingsService(self.backend, self.state)

    def as_user(self, email: str) -> World:
        return World(self.tmp_path, email)

    def portal(self, name: str) -> dict[str, Any]:
        return next(p for p in self.backend.sandbox_info()["portals"] if p["name"] == name)

    def snapshot(self) -> tuple[Any, ...]:
        return (self.state.get("integration"), self.state.audit_entries(),
                self.backend.outbox(), self.backend.crm.desk_tab_visible(),
                [(a.email, a.role, a.status) for p in self.backend.all_portals()
                 for a in self.backend.desk(p.id).agents()])


@pytest.fixture
def world(tmp_path: Path) -> World:
    w = World(tmp_path)
    seed(w.backend, SeedCounts(), random_seed=3)
    return w


@pytest.fixture
def linked(world: World) -> World:
    world.integration.connect("acme-support")
    return world


ADMIN_ONLY = [
    ("portal list", lambda w: w.integration.portals()),
    ("portal connect", lambda w: w.integration.connect("acme-support")),
    ("portal create", lambda w: w.integration.create("new-portal")),
    ("portal connect-other", lambda w: w.integration.connect_other(
        "helen@globex.example", w.portal("globex-help")["zsc_key"])),
    ("portal switch", lambda w: w.integration.switch("acme-labs", True)),
    ("integration deactivate", lambda w: w.integration.deactivate(True)),
    ("integration reauth", lambda w: w.integration.reauth(None)),
    ("users invite", lambda w: w.users.invite(["lena@acme.example"], "agent")),
    ("users set-role", lambda w: w.users.set_role("omar@acme.example", "admin")),
    ("related-list list", lambda w: w.settings.related_lists()),
    ("related-list enable", lambda w: w.settings.set_related_list("Leads", True)),
    ("related-list disable", lambda w: w.settings.set_related_list("Deals", False)),
    ("signals configure", lambda w: w.settings.configure_signals([], ["new-rating"])),
    ("tab status", lambda w: w.settings.tab_status()),
    ("tab remove", lambda w: w.settings.set_tab(False)),
]


@pytest.mark.parametrize("name,action", ADMIN_ONLY, ids=[n for n, _a in ADMIN_ONLY])
def test_admin_only_operations_refuse_a_standard_user_before_changing_anything(
        linked: World, name: str, action: Any) -> None:
    sam = linked.as_user("sam.sales@acme.example")
    before = linked.snapshot()
    with pytest.raises(PermissionDenied, match="sam.sales@acme.example has the CRM profile "
                                               "'Standard'"):
        action(sam)
    assert linked.snapshot() == before


def test_unknown_acting_user_is_not_found(world: World) -> None:
    with pytest.raises(NotFound, match="not a CRM user"):
        world.as_user("ghost@x.example").integration.portals()


def test_portal_list_shows_own_portals_and_the_linked_one(linked: World) -> None:
    rows = {r["name"]: r["linked"] for r in linked.integration.portals()}
    assert rows == {"acme-support": True, "acme-labs": False}


def test_connect_by_name_or_id_and_again_is_a_no_op(world: World) -> None:
    portal = world.portal("acme-support")
    assert world.integration.connect(portal["id"])["changed"] is True
    assert world.integration.connect("ACME-SUPPORT")["changed"] is False
    assert [e["action"] for e in world.state.audit_entries()].count("portal.connect") == 1


def test_only_one_portal_at_a_time(linked: World) -> None:
    for attempt in (lambda: linked.integration.connect("acme-labs"),
                    lambda: linked.integration.create("another"),
                    lambda: linked.integration.connect_other(
                        "helen@globex.example", linked.portal("globex-help")["zsc_key"])):
        with pytest.raises(RuleViolation, match="only one portal can be linked at a time; use "
                                                "'deskctl portal switch'"):
            attempt()
    assert "another" not in [p.name for p in linked.backend.all_portals()]
    assert linked.integration.status()["portal"]["name"] == "acme-support"


def test_create_portal_links_it(world: World) -> None:
    result = world.integration.create("fresh-desk")
    assert result["changed"] is True
    status = world.integration.status()
    assert status["portal"]["name"] == "fresh-desk" and status["portal"]["linked_as"] == "new"
    with pytest.raises(RuleViolation):
        world.integration.create("fresh-desk-2")


def test_connect_other_checks_the_key_and_keeps_it_in_the_keyring_only(world: World,
                                                                         isolated) -> None:
    key = world.portal("globex-help")["zsc_key"]
    with pytest.raises(AuthError, match="ZSC key does not match"):
        world.integration.connect_other("helen@globex.example", key + "x")
    assert world.integration.status()["state"] == "not-set-up"
    with pytest.raises(ValidationError, match="invalid email"):
        world.integration.connect_other("helen", key)
    result = world.integration.connect_other("helen@globex.example", key)
    assert result["changed"] and result["zsc_key_stored"]
    assert isolated.store[("deskctl", "default:zsc_key")] == key
    world.state.close()
    raw = b"".join(p.read_bytes() for p in world.tmp_path.glob("state.db*"))
    assert key.encode() not in raw


def test_switch_previews_then_unlinks_and_keeps_tickets(linked: World) -> None:
    old = linked.portal("acme-support")["id"]
    tickets_before = len(list(linked.backend.desk(old).list_records("tickets")))
    preview = linked.integration.switch("acme-labs", yes=False)
    assert preview["changed"] is False
    assert [u["module"] for u in preview["unlinks"]] == ["Leads", "Contacts", "Accounts"]
    assert sum(u["ticket_associations"] for u in preview["unlinks"]) > 0
    assert linked.integration.status()["portal"]["name"] == "acme-support"
    done = linked.integration.switch("acme-labs", yes=True)
    assert done["changed"] is True
    assert linked.integration.status()["portal"]["name"] == "acme-labs"
    assert len(list(linked.backend.desk(old).list_records("tickets"))) == tickets_before
    assert linked.state.audit_entries()[0]["action"] == "portal.switch"
    with pytest.raises(RuleViolation, match="already linked; nothing to switch"):
        linked.integration.switch("acme-labs", yes=True)


def test_deactivate_blocks_user_commands_and_a_new_setup_starts_over(linked: World) -> None:
    linked.settings.set_related_list("Leads", True)
    preview = linked.integration.deactivate(yes=False)
    assert preview["changed"] is False and linked.integration.status()["state"] == "active"
    linked.integration.deactivate(yes=True)
    assert linked.integration.status()["state"] == "deactivated"
    for blocked in (linked.users.roster, linked.settings.related_lists, linked.settings.tab_status,
                    lambda: linked.users.invite(["lena@acme.example"], "agent")):
        with pytest.raises(NotActive, match="integration is not active"):
            blocked()
    linked.integration.connect("acme-support")
    assert "Leads" not in linked.integration.status()["related_lists"]


def test_reauth_keeps_settings_and_changes_the_owner(linked: World) -> None:
    with linked.backend.db.transaction() as conn:
        conn.execute("UPDATE crm_users SET profile = 'Administrator' WHERE email = ?",
                     ("priya@acme.example",))
    linked.settings.set_related_list("Partners", True)
    priya = linked.as_user("priya@acme.example")
    with pytest.raises(ValidationError, match="cannot reach the linked portal"):
        priya.integration.reauth(None)
    result = linked.integration.reauth(None)
    assert result["credentials_owner"] == "admin@acme.example"
    assert "Partners" in linked.integration.status()["related_lists"]


def test_invite_outcomes_and_rerun_invites_only_the_rest(linked: World) -> None:
    results = linked.users.invite(["sam.sales@acme.example", "stranger@x.example",
                                   "omar@acme.example"], "light-agent")
    assert [(r["email"], r["outcome"]) for r in results] == [
        ("sam.sales@acme.example", "invited"), ("stranger@x.example", "failed"),
        ("omar@acme.example", "already-active")]
    assert [m["to"] for m in linked.backend.outbox()] == ["sam.sales@acme.example"]
    again = linked.users.invite(["sam.sales@acme.example", "lena@acme.example"], "agent")
    assert [r["outcome"] for r in again] == ["already-invited", "invited"]
    assert "use 'deskctl users set-role'" in again[0]["detail"]
    assert len(linked.backend.outbox()) == 2
    rows = {r["email"]: r for r in linked.users.roster()}
    assert rows["sam.sales@acme.example"]["desk_status"] == "invited"
    assert rows["omar@acme.example"]["both_sides"] is True
    assert rows["dana.desk@acme.example"]["crm_profile"] is None


def test_set_role(linked: World) -> None:
    assert linked.users.set_role("omar@acme.example", "admin")["changed"] is True
    assert linked.users.set_role("omar@acme.example", "admin")["changed"] is False
    with pytest.raises(NotFound, match="invite them first"):
        linked.users.set_role("priya@acme.example", "agent")
    with pytest.raises(ValidationError, match="unknown role"):
        linked.users.set_role("omar@acme.example", "owner")


def test_related_lists_default_and_email_rule(linked: World) -> None:
    rows = {r["module"]: r for r in linked.settings.related_lists()}
    assert [m for m, r in rows.items() if r["enabled"]] == ["Contacts", "Accounts", "Deals"]
    with pytest.raises(RuleViolation, match="Projects has no enabled email field"):
        linked.settings.set_related_list("Projects", True)
    assert linked.settings.set_related_list("partners", True)["changed"] is True
    assert linked.settings.set_related_list("Partners", True)["changed"] is False
    assert linked.settings.set_related_list("Deals", False)["changed"] is True
    with pytest.raises(NotFound, match="unknown CRM module"):
        linked.settings.set_related_list("Widgets", True)
    assert linked.integration.status()["related_lists"] == ["Accounts", "Contacts", "Partners"]


def test_signals_configure(linked: World) -> None:
    signals = linked.settings.configure_signals(["new-ticket"], ["new-rating", "new-reply"])
    assert signals["new-rating"] is False and signals["new-reply"] is False
    assert signals["new-ticket"] is True
    with pytest.raises(RuleViolation, match="cannot be enabled and disabled at once"):
        linked.settings.configure_signals(["new-rating"], ["new-rating"])
    with pytest.raises(RuleViolation, match="unknown signal kind"):
        linked.settings.configure_signals(["new-tweet"], [])
    assert linked.integration.status()["signals"]["new-rating"] is False


def test_tab_remove_and_restore(linked: World) -> None:
    assert linked.settings.tab_status()["shown_to"] == ["admin@acme.example",
                                                        "omar@acme.example"]
    assert linked.settings.set_tab(False)["changed"] is True
    assert linked.settings.set_tab(False)["changed"] is False
    assert linked.integration.status()["desk_tab"] == "removed"
    assert linked.settings.set_tab(True)["desk_tab"] == "shown"
