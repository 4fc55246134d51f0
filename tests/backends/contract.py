"""The backend contract: what every backend must do, tested through the interface only.

A backend's test module subclasses BackendContract and provides the ``world`` fixture: a
backend whose CRM has an administrator, and whose acting user administers one portal, plus
an ``other`` portal's admin email and ZSC key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from deskctl.backends.base import Backend
from deskctl.errors import AuthError, DeskctlError, NotFound, Unsupported, ValidationError

# seconds; the local sandbox's fine times add microseconds (clock.iso, docs/reads.md)
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$")


@dataclass
class World:
    backend: Backend
    other_admin: str
    other_zsc_key: str


class BackendContract:
    @pytest.fixture
    def world(self) -> World:
        raise NotImplementedError

    # CRM

    def test_acting_user_is_a_crm_user(self, world: World) -> None:
        crm = world.backend.crm
        me = crm.current_user()
        assert me.email in [u.email for u in crm.users()]
        assert me.is_admin

    def test_modules_include_the_integration_modules(self, world: World) -> None:
        crm = world.backend.crm
        names = {m.api_name for m in crm.modules()}
        assert {"Leads", "Contacts", "Accounts", "Deals"} <= names
        custom = [m for m in crm.modules() if m.custom]
        assert any(m.email_fields for m in custom)
        assert any(not m.email_fields for m in custom)
        assert crm.module("contacts").field("Email").type == "email"  # type: ignore[union-attr]
        with pytest.raises(NotFound, match="unknown CRM module 'Nope'"):
            crm.module("Nope")

    def test_create_then_get(self, world: World) -> None:
        crm = world.backend.crm
        [result] = crm.create_records("Accounts", [{"Account_Name": "Contract AG"}])
        assert result.ok and result.id and result.id.isdigit() and len(result.id) >= 15
        record = crm.get_record("Accounts", result.id)
        assert record.data["Account_Name"] == "Contract AG"
        assert ISO.match(record.created_time) and ISO.match(record.modified_time)

    def test_a_bad_record_does_not_fail_its_batch(self, world: World) -> None:
        results = world.backend.crm.create_records("Contacts", [
            {"Last_Name": "Good", "Email": "good@x.example"},
            {"Last_Name": "Bad", "Email": "not-an-email"},
            {"Email": "noname@x.example"},
            {"Last_Name": "Odd", "Shoe_Size": "42"},
        ])
        assert [r.ok for r in results] == [True, False, False, False]
        assert results[1].field == "Email" and "invalid email" in (results[1].error or "")
        assert "Last_Name" in (results[2].error or "")
        assert "unknown field 'Shoe_Size'" in (results[3].error or "")

    def test_lookup_to_a_missing_record_is_rejected(self, world: World) -> None:
        [result] = world.backend.crm.create_records(
            "Contacts", [{"Last_Name": "X", "Account_Name": "5725767999999999999"}])
        assert not result.ok and "Account_Name" in (result.error or "")

    def test_update_merges_and_moves_the_modified_time(self, world: World, monkeypatch) -> None:
        crm = world.backend.crm
        monkeypatch.setenv("DESKCTL_NOW", "2026-03-01T10:00:00Z")
        [created] = crm.create_records("Contacts", [{"Last_Name": "Lee", "Phone": "+1 555"}])
        monkeypatch.setenv("DESKCTL_NOW", "2026-03-01T11:00:00Z")
        [updated] = crm.update_records("Contacts", [(str(created.id), {"Email": "lee@x.example"})])
        assert updated.ok
        record = crm.get_record("Contacts", str(created.id))
        assert record.data["Phone"] == "+1 555" and record.data["Email"] == "lee@x.example"
        assert record.modified_time == "2026-03-01T11:00:00Z"
        assert record.created_time == "2026-03-01T10:00:00Z"
        [missing] = crm.update_records("Contacts", [("5725767999999999999", {"Title": "x"})])
        assert not missing.ok

    def test_incremental_listing_is_inclusive_and_ordered(self, world: World,
                                                          monkeypatch) -> None:
        crm = world.backend.crm
        for hour, name in ((1, "A1"), (2, "A2"), (3, "A3")):
            monkeypatch.setenv("DESKCTL_NOW", f"2026-04-01T0{hour}:00:00Z")
            crm.create_records("Accounts", [{"Account_Name": name}])
        names = [r.data["Account_Name"] for r in
                 crm.list_records("Accounts", modified_since="2026-04-01T02:00:00Z")]
        assert names == ["A2", "A3"]

    def test_delete_leaves_a_tombstone(self, world: World, monkeypatch) -> None:
        crm = world.backend.crm
        [created] = crm.create_records("Leads", [{"Last_Name": "Gone", "Company": "C"}])
        monkeypatch.setenv("DESKCTL_NOW", "2026-05-01T00:00:00Z")
        assert crm.delete_records("Leads", [str(created.id)])[0].ok
        with pytest.raises(NotFound):
            crm.get_record("Leads", str(created.id))
        stones = crm.deleted_records("Leads", since="2026-05-01T00:00:00Z")
        assert [s.id for s in stones] == [created.id]
        assert not crm.delete_records("Leads", [str(created.id)])[0].ok

    def test_desk_tab_can_be_hidden_and_shown(self, world: World) -> None:
        crm = world.backend.crm
        if "desk-tab" not in world.backend.capabilities:
            with pytest.raises(Unsupported, match="Desk tab"):
                crm.desk_tab_visible()
            with pytest.raises(Unsupported):
                crm.set_desk_tab(False)
            return
        crm.set_desk_tab(False)
        assert crm.desk_tab_visible() is False
        crm.set_desk_tab(True)
        assert crm.desk_tab_visible() is True

    # portals

    def test_portals_and_zsc_keys(self, world: World) -> None:
        backend = world.backend
        mine = backend.portals()
        assert mine
        if "zsc-key" not in backend.capabilities:
            with pytest.raises(Unsupported, match="ZSC key"):
                backend.portal_for_zsc_key(world.other_admin, world.other_zsc_key)
            return
        other = backend.portal_for_zsc_key(world.other_admin, world.other_zsc_key)
        assert other.id not in [p.id for p in mine]
        with pytest.raises(AuthError):
            backend.portal_for_zsc_key(world.other_admin, "wrong-key")
        with pytest.raises(NotFound):
            backend.portal_for_zsc_key("nobody@nowhere.example", world.other_zsc_key)

    def test_create_portal(self, world: World) -> None:
        if "create-portal" not in world.backend.capabilities:
            with pytest.raises(Unsupported, match="cannot create a Desk portal"):
                world.backend.create_portal("contract-portal")
            return
        portal = world.backend.create_portal("contract-portal")
        assert portal.id in [p.id for p in world.backend.portals()]
        with pytest.raises(ValidationError):
            world.backend.create_portal("contract-portal")

    # Desk

    def desk(self, world: World):  # type: ignore[no-untyped-def]
        return world.backend.desk(world.backend.portals()[0].id)

    def test_agents_invitations_and_roles(self, world: World) -> None:
        desk = self.desk(world)
        assert any(a.role == "admin" and a.status == "active" for a in desk.agents())
        agent = desk.invite_agent("new.agent@x.example", "New Agent", "light-agent")
        assert (agent.status, agent.role) == ("invited", "light-agent")
        with pytest.raises(DeskctlError):
            desk.invite_agent("new.agent@x.example", "New Agent", "agent")
        assert desk.set_agent_role("new.agent@x.example", "agent").role == "agent"
        with pytest.raises(ValidationError):
            desk.set_agent_role("new.agent@x.example", "boss")
        with pytest.raises(NotFound):
            desk.set_agent_role("stranger@x.example", "agent")

    def test_desk_records_validate_like_zoho(self, world: World) -> None:
        desk = self.desk(world)
        contact = desk.create_record("contacts", {"lastName": "Kim", "email": "kim@x.example"})
        assert desk.get_record("contacts", contact.id).data["email"] == "kim@x.example"
        with pytest.raises(ValidationError, match="invalid email"):
            desk.create_record("contacts", {"lastName": "Kim", "email": "kim-at-x"})
        with pytest.raises(ValidationError, match="lastName"):
            desk.create_record("contacts", {"email": "a@x.example"})
        with pytest.raises(ValidationError, match="unknown field"):
            desk.create_record("accounts", {"accountName": "A", "colour": "red"})
        with pytest.raises(ValidationError, match="contactId"):
            desk.create_record("tickets", {"subject": "S", "contactId": "206833009999999999",
                                           "departmentId": desk.departments()[0]["id"]})

    def test_ticket_lifecycle_and_activity(self, world: World, monkeypatch) -> None:
        desk = self.desk(world)
        contact = desk.create_record("contacts", {"lastName": "Roe", "email": "roe@x.example"})
        monkeypatch.setenv("DESKCTL_NOW", "2026-06-01T09:00:00Z")
        ticket = desk.create_record("tickets", {"subject": "Broken", "contactId": contact.id,
                                                "departmentId": desk.departments()[0]["id"]})
        assert ticket.data["status"] == "Open" and ticket.data["ticketNumber"]
        with pytest.raises(ValidationError, match="invalid value 'Huge'"):
            desk.update_record("tickets", ticket.id, {"priority": "Huge"})
        monkeypatch.setenv("DESKCTL_NOW", "2026-06-01T10:00:00Z")
        desk.add_ticket_event(ticket.id, "reply", "agent@x.example",
                              {"content": "On it", "to": ["roe@x.example"]})
        monkeypatch.setenv("DESKCTL_NOW", "2026-06-01T11:00:00Z")
        desk.add_ticket_event(ticket.id, "comment", "agent@x.example",
                              {"content": "Checked", "public": False})
        monkeypatch.setenv("DESKCTL_NOW", "2026-06-01T12:00:00Z")
        closed = desk.update_record("tickets", ticket.id, {"status": "Closed"})
        assert closed.data["closedTime"] == "2026-06-01T12:00:00Z"
        events = desk.ticket_events(ticket.id)
        kinds = [e.kind for e in events if e.kind != "history"]
        assert kinds == ["reply", "comment"]
        assert events[[e.kind for e in events].index("reply")].data["content"] == "On it"
        assert [e.kind for e in desk.ticket_events(ticket.id, ("reply",))] == ["reply"]
        if "ticket-history" in world.backend.capabilities:
            history = desk.ticket_events(ticket.id, ("history",))
            assert {e.kind for e in history} == {"history"}
            assert ["Open", "Closed"] in [e.data["changes"].get("status") for e in history]
            assert history[-1].created_time == "2026-06-01T12:00:00Z"
        if "customer-actions" not in world.backend.capabilities:
            with pytest.raises(Unsupported):
                desk.add_ticket_event(ticket.id, "rating", "roe@x.example", {"rating": "good"})
            return
        desk.add_ticket_event(ticket.id, "customer-reply", "roe@x.example", {"content": "Thx"})
        desk.add_ticket_event(ticket.id, "rating", "roe@x.example", {"rating": "good"})
        with pytest.raises(ValidationError):
            desk.add_ticket_event(ticket.id, "rating", "roe@x.example", {"rating": "meh"})
        kinds = [e.kind for e in desk.ticket_events(ticket.id)]
        assert kinds == ["history", "reply", "comment", "history", "customer-reply", "rating"]
        history = desk.ticket_events(ticket.id)[3]
        assert history.data["changes"]["status"] == ["Open", "Closed"]

    def test_desk_delete_leaves_a_tombstone(self, world: World) -> None:
        desk = self.desk(world)
        account = desk.create_record("accounts", {"accountName": "Temp"})
        desk.delete_record("accounts", account.id)
        with pytest.raises(NotFound):
            desk.get_record("accounts", account.id)
        stones = [t.id for t in desk.deleted_records("accounts")]
        assert (account.id in stones) == ("desk-tombstones" in world.backend.capabilities)
        with pytest.raises(NotFound):
            desk.delete_record("accounts", account.id)

    def test_desk_account_deleted_lets_go_of_its_contacts(self, world: World) -> None:
        """Desk's recycle bin restores an account's lookup relationships "that have not
        been replaced": moving it to the trash takes it off its contacts, which stay."""
        desk = self.desk(world)
        gone = desk.create_record("accounts", {"accountName": "Gone AG"})
        kept = desk.create_record("accounts", {"accountName": "Kept AG"})
        left = desk.create_record("contacts", {"lastName": "Left", "accountId": gone.id})
        other = desk.create_record("contacts", {"lastName": "Other", "accountId": kept.id})
        desk.delete_record("accounts", gone.id)
        assert not desk.get_record("contacts", left.id).data.get("accountId")
        assert desk.get_record("contacts", other.id).data["accountId"] == kept.id

    # reads that never skip: an edit between two pages of a listing moves the edited record
    # to the end; with offset pages it would shift another record past the page boundary.
    # The edited record is yielded again at the end, or (a listing that had read that far
    # ahead) read by a listing from the listing's start: base.py's contract

    @staticmethod
    def _list_editing(listing, edit, every: int, edits: int) -> tuple[list, list[str]]:
        """Read ``listing``; after every ``every`` records, edit the oldest record read so
        far that is not yet edited (between the backend's pages, whatever their size)."""
        seen: list = []
        edited: list[str] = []
        for record in listing:
            seen.append(record)
            if len(seen) % every == 0 and len(edited) < edits:
                target = next(r for r in seen if r.id not in edited)
                edit(target.id)
                edited.append(target.id)
        return seen, edited

    def test_crm_listing_never_skips_records_edited_while_it_pages(self, world: World,
                                                                   monkeypatch) -> None:
        crm = world.backend.crm
        ids: list[str] = []
        for batch in range(11):
            monkeypatch.setenv("DESKCTL_NOW", f"2026-06-01T10:00:{batch:02d}Z")
            ids += [str(r.id) for r in crm.create_records("Accounts", [
                {"Account_Name": f"Keyset {batch}-{i}"} for i in range(100)])]
        monkeypatch.setenv("DESKCTL_NOW", "2026-06-01T11:00:00Z")
        seen, edited = self._list_editing(
            crm.list_records("Accounts", "2026-06-01T10:00:00Z"),
            lambda rid: crm.update_records("Accounts", [(rid, {"Phone": "+1 555 0100"})]),
            every=150, edits=6)
        assert set(ids) <= {r.id for r in seen}, "a record was skipped"
        last = {r.id: r for r in seen}
        assert [last[i].data.get("Phone") for i in edited] == ["+1 555 0100"] * 6
        times = [r.modified_time for r in seen]
        assert times == sorted(times)

    def test_desk_listing_never_skips_records_edited_while_it_pages(self, world: World,
                                                                    monkeypatch) -> None:
        desk = self.desk(world)
        ids = []
        for batch in range(11):
            monkeypatch.setenv("DESKCTL_NOW", f"2026-06-01T10:00:{batch:02d}Z")
            ids += [desk.create_record("contacts", {"lastName": f"Keyset {batch}-{i}"}).id
                    for i in range(50)]
        began = "2026-06-01T11:00:00Z"  # the listing's start, and every edit's time
        monkeypatch.setenv("DESKCTL_NOW", began)
        seen, edited = self._list_editing(
            desk.list_records("contacts", "2026-06-01T10:00:00Z"),
            lambda rid: desk.update_record("contacts", rid, {"title": "Edited"}),
            every=120, edits=4)
        assert set(ids) <= {r.id for r in seen}, "a record was skipped"
        times = [r.modified_time for r in seen]
        assert times == sorted(times)  # an edit yielded again comes last
        assert all(r.modified_time == began for r in seen if r.data.get("title"))
        # what was not yielded again is read from the listing's start
        again = {r.id: r for r in desk.list_records("contacts", began)}
        assert [again[i].data.get("title") for i in edited] == ["Edited"] * 4
        assert set(again) == set(edited)
