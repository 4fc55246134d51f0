"""Working on tickets from the CRM: create, comment, reply, forward, update, assign, close,
delete and deal links. The role matrix is checked before any change."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deskctl.errors import NotFound, ValidationError
from deskctl.models.permissions import check
from deskctl.models.records import EMAIL_RE, Record, coerce_text
from deskctl.models.tickets import CONVERSATION, DEAL_LINK_FIELD, is_closed
from deskctl.services.relations import deal_ids
from deskctl.services.ticket_queue import TicketQueue, parse_due

if TYPE_CHECKING:
    from deskctl.backends.base import Backend
    from deskctl.state import StateStore

#: Zoho does not publish the limit; 20 MB is what its UI accepts per file
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
FIELD_ALIASES = {"owner": "assigneeId", "due": "dueDate", "contact": "contactId"}
NEW_CONTACT = re.compile(r"^\s*(?P<name>[^<>]+?)\s*<(?P<email>[^<>]+)>\s*$")


class TicketService(TicketQueue):
    def __init__(self, backend: Backend, state: StateStore,
                 from_address: str | None = None) -> None:
        super().__init__(backend, state)
        # desk.from_address: replies and forwards go out from it (it must be a From address
        # of the ticket's department); unset, the backend takes the department's default
        self.from_address = from_address

    def _mail(self, text: str, to: list[str], cc: list[str] | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {"content": text, "to": to, "cc": cc or []}
        if self.from_address:
            data["from"] = self.from_address
        return data

    # creating

    def _contact_for(self, module: str, record: Record, contact: str | None,
                     new_contact: str | None) -> str:
        if contact and new_contact:
            raise ValidationError("use either --contact or --new-contact, not both")
        if new_contact:
            match = NEW_CONTACT.match(new_contact)
            if not match or not EMAIL_RE.match(match["email"].strip()):
                raise ValidationError(f"--new-contact expects \"First Last <email>\", got "
                                      f"{new_contact!r}")
            first, _, last = match["name"].strip().rpartition(" ")
            return self.desk.create_record("contacts", {
                "firstName": first or None, "lastName": last,
                "email": match["email"].strip()}).id
        if contact:
            return self._find_contact(contact)
        found = sorted(self.relations.desk_contacts(module, record))
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise ValidationError(f"this {module} record has {len(found)} Desk contacts; "
                                  "choose one with --contact")
        raise ValidationError(f"this {module} record has no Desk contact yet; pass --contact "
                              "EMAIL_OR_ID or --new-contact \"First Last <email>\"")

    def _find_contact(self, ref: str) -> str:
        if ref in self.contacts:
            return ref
        wanted = ref.strip().lower()
        hits = [c for c in self.contacts.values()
                if (c.data.get("email") or "").lower() == wanted
                or " ".join(filter(None, [c.data.get("firstName"), c.data.get("lastName")]))
                .lower() == wanted]
        if not hits:
            raise NotFound(f"no Desk contact with id, email or name {ref!r}")
        if len(hits) > 1:
            raise ValidationError(f"{len(hits)} Desk contacts match {ref!r}; use the id: "
                                  + ", ".join(h.id for h in hits))
        return hits[0].id

    def _agent_id(self, email: str) -> str:
        agent = next((a for a in self.agents if a.email.lower() == email.lower()), None)
        if agent is None or agent.status != "active":
            raise NotFound(f"{email} is not an active agent of the linked portal")
        return agent.id

    def _owner(self, ref: str) -> str:
        """The agent id of a ticket's new owner (email or id; empty: nobody). Setting the
        owner is assigning, which only Desk admins may do, in create --owner, update owner=
        and assign alike (one rule, checked before any lookup or write)."""
        check(self.actor.role, "assign", self.actor.user.email)
        return self._agent_id(ref) if "@" in ref else ref.strip()

    @staticmethod
    def check_attachment(path: str) -> dict[str, Any]:
        file = Path(path)
        if file.is_dir():
            raise ValidationError(f"attachment {path} is a directory; attach files")
        if not file.is_file():
            raise ValidationError(f"attachment not found: {path}")
        size = file.stat().st_size
        if size > MAX_ATTACHMENT_BYTES:
            raise ValidationError(f"attachment {path} is {size} bytes; the limit is "
                                  f"{MAX_ATTACHMENT_BYTES} bytes")
        try:
            digest = hashlib.sha256(file.read_bytes()).hexdigest()
        except OSError as exc:
            raise ValidationError(f"cannot read attachment {path}: {exc.strerror}") from None
        return {"name": file.name, "size": size, "sha256": digest, "path": str(file)}

    def create(self, module: str, record_id: str, subject: str, *, description: str | None,
               contact: str | None, new_contact: str | None, priority: str | None,
               status: str | None, due: str | None, owner: str | None,
               attachments: list[str]) -> dict[str, Any]:
        self.allow("create")
        name, record = self._record(module, record_id)
        files = [self.check_attachment(p) for p in attachments]  # all checked before writing
        data: dict[str, Any] = {"subject": subject, "description": description,
                                "priority": priority, "status": status,
                                "departmentId": self.desk.departments()[0]["id"]}
        if due:
            data["dueDate"] = parse_due(due)
        if owner:
            data["assigneeId"] = self._owner(owner)
        if name == "Deals":
            data[DEAL_LINK_FIELD] = record.id
        data["contactId"] = self._contact_for(name, record, contact, new_contact)
        ticket = self.desk.create_record("tickets", data)
        for meta in files:
            self.desk.add_ticket_event(ticket.id, "attachment", self.actor.user.email, meta)
        self._audit("create", ticket.id, {"module": name, "record": record.id,
                                          "attachments": [f["name"] for f in files]})
        return self.show(ticket.id)

    # conversation

    def comment(self, ticket_id: str, text: str, private: bool) -> dict[str, Any]:
        self.allow("comment")
        self.ticket(ticket_id)
        event = self.desk.add_ticket_event(ticket_id, "comment", self.actor.user.email,
                                           {"content": text, "public": not private})
        self._audit("comment", ticket_id, {"private": private})
        return event.to_dict()

    def reply(self, ticket_id: str, text: str, to_all: bool) -> dict[str, Any]:
        self.allow("reply")
        ticket = self.ticket(ticket_id)
        contact = self.contacts.get(ticket.data.get("contactId", ""))
        recipients = [contact.data["email"]] if contact and contact.data.get("email") else []
        if to_all:
            for event in self.desk.ticket_events(ticket_id, CONVERSATION):
                recipients += event.data.get("to", []) + event.data.get("cc", [])
                if event.kind.startswith("customer") and "@" in event.author:
                    recipients.append(event.author)
        me = self.actor.user.email.lower()
        recipients = list(dict.fromkeys(r for r in recipients if r.lower() != me))
        if not recipients:
            raise ValidationError("the ticket's contact has no email address to reply to")
        event = self.desk.add_ticket_event(ticket_id, "reply", self.actor.user.email,
                                           self._mail(text, recipients[:1], recipients[1:]))
        self._audit("reply", ticket_id, {"to": recipients[:1], "cc": recipients[1:],
                                         "from": event.data.get("from")})
        return event.to_dict()

    def forward(self, ticket_id: str, to: list[str], text: str) -> dict[str, Any]:
        self.allow("forward")
        bad = [e for e in to if not EMAIL_RE.match(e)]
        if bad:
            raise ValidationError(f"invalid email address {bad[0]!r}")
        self.ticket(ticket_id)
        event = self.desk.add_ticket_event(ticket_id, "forward", self.actor.user.email,
                                           self._mail(text, list(to)))
        self._audit("forward", ticket_id, {"to": list(to), "from": event.data.get("from")})
        return event.to_dict()

    # changes

    def update(self, ticket_id: str, assignments: dict[str, str]) -> dict[str, Any]:
        self.allow("update")
        if not assignments:
            raise ValidationError("nothing to update: give FIELD=VALUE pairs")
        meta = self.desk.fields("tickets")
        changes: dict[str, Any] = {}
        for raw, value in assignments.items():
            field = FIELD_ALIASES.get(raw, raw)
            if field == "assigneeId":
                value = self._owner(value)
            elif field == "dueDate" and value:
                value = parse_due(value)
            elif field == "contactId" and value:
                value = self._find_contact(value)
            changes[field] = coerce_text(meta.field(field), value)
        self.ticket(ticket_id)
        self.desk.update_record("tickets", ticket_id, changes)
        self._audit("update", ticket_id, {"fields": sorted(changes)})
        return self.show(ticket_id)

    def assign(self, ticket_id: str, email: str) -> dict[str, Any]:
        self.allow("assign")
        self.ticket(ticket_id)
        self.desk.update_record("tickets", ticket_id, {"assigneeId": self._owner(email)})
        self._audit("assign", ticket_id, {"to": email})
        return self.show(ticket_id)

    def _all_exist(self, ids: list[str]) -> list[Record]:
        """Every ticket, or NotFound before anything changes."""
        return [self.ticket(i) for i in dict.fromkeys(ids)]

    def close(self, ids: list[str]) -> list[dict[str, Any]]:
        self.allow("close")
        results = []
        for ticket in self._all_exist(ids):
            changed = not is_closed(ticket.data)
            if changed:
                self.desk.update_record("tickets", ticket.id, {"status": "Closed"})
                self._audit("close", ticket.id)
            results.append({"id": ticket.id, "number": ticket.data.get("ticketNumber"),
                            "status": "Closed" if changed else ticket.data.get("status"),
                            "changed": changed})
        return results

    def delete(self, ids: list[str], yes: bool) -> list[dict[str, Any]]:
        self.allow("delete")
        tickets = self._all_exist(ids)
        results = []
        for ticket in tickets:
            if yes:
                self.desk.delete_record("tickets", ticket.id)
                self._audit("delete", ticket.id, {"subject": ticket.data.get("subject")})
            results.append({"id": ticket.id, "number": ticket.data.get("ticketNumber"),
                            "subject": ticket.data.get("subject"), "deleted": yes})
        return results

    def link_deal(self, ids: list[str], deal_id: str, link: bool) -> list[dict[str, Any]]:
        self.allow("link-deal" if link else "unlink-deal")
        deal = self.backend.crm.get_record("Deals", deal_id)  # NotFound before any change
        tickets = self._all_exist(ids)
        results = []
        for ticket in tickets:
            current = deal_ids(ticket)
            wanted = (current + [deal.id] if deal.id not in current else current) if link \
                else [d for d in current if d != deal.id]
            changed = wanted != current
            if changed:
                self.desk.update_record("tickets", ticket.id,
                                        {DEAL_LINK_FIELD: ",".join(wanted) or None})
                self._audit("link-deal" if link else "unlink-deal", ticket.id,
                            {"deal": deal.id})
            results.append({"ticket": ticket.id, "number": ticket.data.get("ticketNumber"),
                            "deal": deal.id, "deal_name": deal.data.get("Deal_Name"),
                            "linked": link, "changed": changed})
        return results
