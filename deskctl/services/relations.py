"""Which tickets belong to which CRM record (SPEC §5): through the email of the record's
Desk contact; for Accounts through the account's contacts; for Deals through explicit
links and the deal's contact. Built once per command from one read of each collection."""

from __future__ import annotations

from collections import defaultdict
from contextlib import suppress
from functools import cached_property
from typing import TYPE_CHECKING

from deskctl.errors import NotFound
from deskctl.models.records import Record
from deskctl.models.tickets import DEAL_LINK_FIELD

if TYPE_CHECKING:
    from deskctl.backends.base import CrmApi, DeskApi



def deal_ids(ticket: Record) -> list[str]:
    raw = ticket.data.get(DEAL_LINK_FIELD) or ""
    return [d for d in raw.split(",") if d]


class TicketRelations:
    def __init__(self, crm: CrmApi, desk: DeskApi,
                 pairs: dict[str, dict[str, str]] | None = None) -> None:
        self.crm = crm
        self.desk = desk
        self.pairs = pairs or {}  # module -> {crm id: desk id}

    @cached_property
    def tickets(self) -> list[Record]:
        return list(self.desk.list_records("tickets"))

    @cached_property
    def desk_contacts_list(self) -> list[Record]:
        return list(self.desk.list_records("contacts"))

    def _index(self, field: str, lower: bool) -> dict[str, set[str]]:
        index: dict[str, set[str]] = defaultdict(set)
        for contact in self.desk_contacts_list:
            value = contact.data.get(field)
            if value:
                index[value.lower() if lower else value].add(contact.id)
        return index

    @cached_property
    def _contacts_by_email(self) -> dict[str, set[str]]:
        return self._index("email", lower=True)

    @cached_property
    def _desk_contacts_by_account(self) -> dict[str, set[str]]:
        return self._index("accountId", lower=False)

    @cached_property
    def _tickets_by_contact(self) -> dict[str, list[Record]]:
        index: dict[str, list[Record]] = defaultdict(list)
        for ticket in self.tickets:
            index[ticket.data.get("contactId", "")].append(ticket)
        return index

    @cached_property
    def _crm_contacts_by_account(self) -> dict[str, list[Record]]:
        index: dict[str, list[Record]] = defaultdict(list)
        for contact in self.crm.list_records("Contacts"):
            if contact.data.get("Account_Name"):
                index[contact.data["Account_Name"]].append(contact)
        return index

    def desk_contacts(self, module: str, record: Record) -> set[str]:
        """Desk contact ids that stand for ``record``."""
        found: set[str] = set()
        if module == "Accounts":
            for contact in self._crm_contacts_by_account.get(record.id, []):
                found |= self.desk_contacts("Contacts", contact)
            desk_account = self.pairs.get("Accounts", {}).get(record.id)
            if desk_account:
                found |= self._desk_contacts_by_account.get(desk_account, set())
            return found
        if module == "Deals":
            contact_id = record.data.get("Contact_Name")
            if contact_id:
                with suppress(NotFound):  # a deleted contact leaves the deal without one
                    contact = self.crm.get_record("Contacts", contact_id)
                    found |= self.desk_contacts("Contacts", contact)
            return found
        mapped = self.pairs.get(module, {}).get(record.id)
        if mapped:
            found.add(mapped)
        meta = self.crm.module(module)
        for field in meta.email_fields:
            email = record.data.get(field.api_name)
            if email:
                found |= self._contacts_by_email.get(email.lower(), set())
        return found

    def tickets_for(self, module: str, record: Record) -> list[Record]:
        tickets: dict[str, Record] = {}
        for contact_id in self.desk_contacts(module, record):
            for ticket in self._tickets_by_contact.get(contact_id, []):
                tickets[ticket.id] = ticket
        if module == "Deals":
            for ticket in self.tickets:
                if record.id in deal_ids(ticket):
                    tickets[ticket.id] = ticket
        return list(tickets.values())

    def associations(self, module: str) -> tuple[int, int]:
        """(records with tickets, record-ticket associations) of a module."""
        records = tickets = 0
        for record in self.crm.list_records(module):
            found = len(self.tickets_for(module, record))
            records += bool(found)
            tickets += found
        return records, tickets
