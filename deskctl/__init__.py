"""deskctl: administer and sync the Zoho CRM / Zoho Desk integration from the command line."""

__version__ = "0.1.0"
