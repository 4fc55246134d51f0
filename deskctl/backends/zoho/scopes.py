"""The OAuth scopes deskctl needs, per feature, and which scope a request needs.

Sources: each operation's `security` list in Zoho's OpenAPI files (CRM v8 `record.json`,
`users.json`, `fields.json`, `modules.json`; Desk v1 `Ticket.json`, `Contact.json`,
`Account.json`, `Agent.json`, `Department.json`, `Organization.json`, `Search.json`,
`Thread.json`, `TicketComment.json`, `TicketAttachment.json`), and for endpoints outside the
spec extract Zoho's API documents: `GET /customerHappiness` needs Desk.search.READ and
Desk.tickets.READ, `GET /tickets/{id}/History` Desk.tickets.READ
(https://desk.zoho.com/DeskAPIDocument, customerHappiness and ticket History sections).
Zoho's scope errors (CRM 401 OAUTH_SCOPE_MISMATCH, Desk SCOPE_MISMATCH) do not say which
scope is missing, so deskctl names it from this table.
"""

from __future__ import annotations

import re

#: feature -> scopes; the union is the consent string `deskctl auth scopes` prints
FEATURES: dict[str, tuple[str, ...]] = {
    "every command (who you are, portals, modules and fields)": (
        "ZohoCRM.users.READ", "ZohoCRM.settings.modules.READ", "ZohoCRM.settings.fields.READ",
        "Desk.basic.READ", "Desk.settings.READ"),
    "sync (CRM records, deleted records and search; Desk contacts and accounts)": (
        "ZohoCRM.modules.ALL", "ZohoCRM.coql.READ", "Desk.contacts.READ",
        "Desk.contacts.CREATE", "Desk.contacts.UPDATE", "Desk.contacts.DELETE",
        "Desk.search.READ", "Desk.settings.READ"),
    "tickets (list, show, history, create, comment, reply, forward, update, close, delete)": (
        "Desk.tickets.READ", "Desk.tickets.CREATE", "Desk.tickets.UPDATE",
        "Desk.tickets.DELETE", "Desk.contacts.READ", "Desk.contacts.CREATE",
        "Desk.search.READ", "ZohoCRM.modules.READ"),
    "stats and signals (ratings, ticket history)": (
        "Desk.tickets.READ", "Desk.search.READ", "Desk.contacts.READ", "ZohoCRM.modules.READ"),
    "users invite and set-role (Desk agents)": (
        "Desk.basic.CREATE", "Desk.basic.UPDATE", "Desk.settings.CREATE",
        "Desk.settings.UPDATE"),
}

# (method, path pattern) -> scopes, first match wins; one table for both APIs
_RULES: list[tuple[str, str, str]] = [
    # CRM v8
    ("GET", r"/crm/v8/users", "ZohoCRM.users.READ"),
    ("GET", r"/crm/v8/settings/modules", "ZohoCRM.settings.modules.READ"),
    ("GET", r"/crm/v8/settings/fields", "ZohoCRM.settings.fields.READ"),
    # Get-Records-through-COQL-Query (v8): coql.READ with the module's READ scope
    ("POST", r"/crm/v8/coql", "ZohoCRM.coql.READ and ZohoCRM.modules.READ"),
    ("GET", r"/crm/v8/[^/]+(/.*)?", "ZohoCRM.modules.READ (or ZohoCRM.modules.ALL)"),
    ("POST", r"/crm/v8/[^/]+", "ZohoCRM.modules.CREATE (or ZohoCRM.modules.ALL)"),
    ("PUT", r"/crm/v8/[^/]+", "ZohoCRM.modules.UPDATE (or ZohoCRM.modules.ALL)"),
    ("DELETE", r"/crm/v8/[^/]+", "ZohoCRM.modules.DELETE (or ZohoCRM.modules.ALL)"),
    # Desk v1
    ("GET", r"/api/v1/(organizations|agents|departments)",
     "Desk.basic.READ and Desk.settings.READ"),
    ("POST", r"/api/v1/agents", "Desk.basic.CREATE and Desk.settings.CREATE"),
    ("PATCH", r"/api/v1/agents/.*", "Desk.basic.UPDATE and Desk.settings.UPDATE"),
    ("GET", r"/api/v1/(contacts|accounts|tickets)/search", "Desk.search.READ"),
    ("GET", r"/api/v1/customerHappiness", "Desk.search.READ and Desk.tickets.READ"),
    # "List deleted resources" (Desk API, RecycleBin): OAuth scope Desk.settings.READ
    ("GET", r"/api/v1/recycleBin", "Desk.settings.READ"),
    ("POST", r"/api/v1/(contacts|accounts)/moveToTrash", "Desk.contacts.DELETE"),
    ("POST", r"/api/v1/tickets/moveToTrash", "Desk.tickets.DELETE"),
    ("POST", r"/api/v1/(contacts|accounts)", "Desk.contacts.CREATE"),
    ("PATCH", r"/api/v1/(contacts|accounts)/.*", "Desk.contacts.UPDATE"),
    ("GET", r"/api/v1/(contacts|accounts)(/.*)?", "Desk.contacts.READ"),
    ("POST", r"/api/v1/tickets", "Desk.tickets.CREATE"),
    ("POST", r"/api/v1/tickets/.+", "Desk.tickets.UPDATE"),
    ("PATCH", r"/api/v1/tickets/.*", "Desk.tickets.UPDATE"),
    ("GET", r"/api/v1/tickets(/.*)?", "Desk.tickets.READ"),
]


def all_scopes() -> list[str]:
    """Every scope, once, in a stable order (the consent string)."""
    seen: dict[str, None] = {}
    for scopes in FEATURES.values():
        seen.update(dict.fromkeys(scopes))
    return list(seen)


def needed_for(method: str, path: str) -> str | None:
    """The scope(s) a request needs; ``path`` starts with /crm/v8 or /api/v1 (or neither)."""
    path = path.split("?")[0]
    return next((scope for m, pattern, scope in _RULES
                 if m == method and re.fullmatch(pattern, path)), None)
