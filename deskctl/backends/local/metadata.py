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
