"""Zoho Desk's standard fields of contacts, accounts and tickets, shared by the backends
(the local simulation validates with them; the zoho backend checks writes before sending)."""

from __future__ import annotations

from deskctl.models.records import FieldMeta as F
from deskctl.models.records import ModuleMeta
from deskctl.models.tickets import DEAL_LINK_FIELD

TICKET_STATUS = ("Open", "On Hold", "Escalated", "Closed")
TICKET_PRIORITY = ("Low", "Medium", "High", "Urgent")
CHANNELS = ("Email", "Phone", "Web", "Chat")

DESK_KINDS_META: dict[str, ModuleMeta] = {
    "contacts": ModuleMeta("contacts", "Contacts", False, (
        F("firstName", "First Name", max_length=40),
        F("lastName", "Last Name", required=True, max_length=80),
        F("email", "Email", "email", max_length=100),
        F("phone", "Phone", "phone", max_length=30),
        F("mobile", "Mobile", "phone", max_length=30),
        F("title", "Title", max_length=50),  # tighter than the CRM: a realistic rejection
        F("accountId", "Account", "lookup", lookup="accounts"),
        F("city", "City", max_length=100),
    )),
    "accounts": ModuleMeta("accounts", "Accounts", False, (
        F("accountName", "Account Name", required=True, max_length=200),
        F("phone", "Phone", "phone", max_length=30),
        F("website", "Website", "website"),
        F("industry", "Industry", max_length=100),
        F("city", "City", max_length=100),
    )),
    "tickets": ModuleMeta("tickets", "Tickets", False, (
        F("ticketNumber", "Ticket Number", read_only=True),
        F("subject", "Subject", required=True, max_length=255),
        F("description", "Description", "textarea"),
        F("status", "Status", "picklist", choices=TICKET_STATUS),
        F("priority", "Priority", "picklist", choices=TICKET_PRIORITY),
        F("channel", "Channel", "picklist", choices=CHANNELS),
        F("dueDate", "Due Date", "datetime"),
        F("contactId", "Contact", "lookup", required=True, lookup="contacts"),
        F("departmentId", "Department", "lookup", required=True, lookup="departments"),
        F("assigneeId", "Ticket Owner", "lookup", lookup="agents"),
        F("email", "Email", "email", max_length=100),
        F("phone", "Phone", "phone", max_length=30),
        F("category", "Category", max_length=100),
        F("classification", "Classification", "picklist",
          choices=("Question", "Problem", "Request", "Others")),
        F("closedTime", "Closed Time", "datetime", read_only=True),
        F(DEAL_LINK_FIELD, "Linked Deals", "textarea", custom=True),
    )),
}
