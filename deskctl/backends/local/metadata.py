"""Field metadata of the simulated CRM modules and Desk collections (mirrors Zoho's names)."""

from __future__ import annotations

from deskctl.models.records import FieldMeta as F
from deskctl.models.records import ModuleMeta

LEAD_STATUS = ("Not Contacted", "Attempted to Contact", "Contacted", "Qualified", "Lost Lead")
INDUSTRY = ("Technology", "Manufacturing", "Retail", "Healthcare", "Finance", "Education")
STAGES = ("Qualification", "Needs Analysis", "Proposal", "Negotiation", "Closed Won",
          "Closed Lost")

CRM_MODULES: tuple[ModuleMeta, ...] = (
    ModuleMeta("Leads", "Leads", False, (
        F("First_Name", "First Name", max_length=40),
        F("Last_Name", "Last Name", required=True, max_length=80),
        F("Company", "Company", required=True, max_length=200),
        F("Email", "Email", "email", max_length=100),
        F("Phone", "Phone", "phone", max_length=30),
        F("Website", "Website", "website"),
        F("Lead_Status", "Lead Status", "picklist", choices=LEAD_STATUS),
    )),
    ModuleMeta("Contacts", "Contacts", False, (
        F("First_Name", "First Name", max_length=40),
        F("Last_Name", "Last Name", required=True, max_length=80),
        F("Email", "Email", "email", max_length=100),
        F("Phone", "Phone", "phone", max_length=30),
        F("Mobile", "Mobile", "phone", max_length=30),
        F("Title", "Title", max_length=100),
        F("Account_Name", "Account Name", "lookup", lookup="Accounts"),
        F("Mailing_City", "Mailing City", max_length=100),
    )),
    ModuleMeta("Accounts", "Accounts", False, (
        F("Account_Name", "Account Name", required=True, max_length=200),
        F("Phone", "Phone", "phone", max_length=30),
        F("Website", "Website", "website"),
        F("Industry", "Industry", "picklist", choices=INDUSTRY),
        F("Billing_City", "Billing City", max_length=100),
    )),
    ModuleMeta("Deals", "Deals", False, (
        F("Deal_Name", "Deal Name", required=True, max_length=120),
        F("Stage", "Stage", "picklist", required=True, choices=STAGES),
        F("Amount", "Amount", "currency"),
        F("Closing_Date", "Closing Date", "date"),
        F("Account_Name", "Account Name", "lookup", lookup="Accounts"),
        F("Contact_Name", "Contact Name", "lookup", lookup="Contacts"),
    )),
    ModuleMeta("Partners", "Partners", True, (
        F("Name", "Partner Name", required=True, max_length=120),
        F("Partner_Email", "Partner Email", "email", custom=True, max_length=100),
        F("Phone", "Phone", "phone", max_length=30),
    )),
    ModuleMeta("Projects", "Projects", True, (
        F("Name", "Project Name", required=True, max_length=120),
        F("Budget", "Budget", "currency", custom=True),
        F("Due_Date", "Due Date", "date", custom=True),
    )),
)

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
        F("cf_deal_ids", "Linked Deals", "textarea", custom=True),
    )),
}
