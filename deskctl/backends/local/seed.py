"""Realistic, repeatable sandbox data: mixed-case emails, missing phones, and about one
contact in a hundred sharing its email with another (``messy``: one in seven, for testing
ambiguous matches). The same random seed on the same sandbox gives the same data."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from deskctl import clock
from deskctl.backends.local import LocalBackend
from deskctl.backends.local.crm import raise_first
from deskctl.backends.local.metadata import INDUSTRY, LEAD_STATUS, STAGES
from deskctl.progress import Progress

FIRST = ("Anna", "Ben", "Carla", "David", "Elif", "Farid", "Greta", "Hugo", "Ines", "Jonas",
         "Kemal", "Lara", "Mats", "Nora", "Oskar", "Paula", "Quinn", "Rosa", "Stefan", "Tara")
LAST = ("Becker", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hansen", "Ivanova",
        "Jensen", "Kowalski", "Lehmann", "Moreau", "Novak", "Olsen", "Petrov", "Rossi",
        "Schmidt", "Tanaka", "Urban", "Vogel")
COMPANY = ("Northwind", "Bluebird", "Ironclad", "Silverline", "Greenfield", "Redwood",
           "Brightpath", "Stonebridge", "Clearwater", "Sunpeak", "Oakridge", "Maple")
SUFFIX = ("GmbH", "Ltd", "Inc", "AG", "Systems", "Labs")
CITY = ("Berlin", "Hamburg", "Munich", "Vienna", "Zurich", "Cologne")
SUBJECTS = ("Cannot log in", "Invoice is wrong", "Feature request: export", "App crashes on start",
            "Password reset mail missing", "Slow dashboard", "Sync error", "Refund request",
            "Change of address", "API rate limit reached")

CRM_USERS = (
    ("admin@acme.example", "Ada Admin", "Administrator"),
    ("sam.sales@acme.example", "Sam Sales", "Standard"),
    ("lena@acme.example", "Lena Lightfoot", "Standard"),
    ("omar@acme.example", "Omar Ortiz", "Standard"),
    ("priya@acme.example", "Priya Patel", "Standard"),
)
OWNER = CRM_USERS[0][0]
PORTALS = (("acme-support", OWNER, "Ada Admin"),
           ("acme-labs", OWNER, "Ada Admin"),
           ("globex-help", "helen@globex.example", "Helen Globex"))
AGENTS = (("omar@acme.example", "Omar Ortiz", "agent"),
          ("dana.desk@acme.example", "Dana Desk", "agent"))


MAX_COUNT = 1_000_000  # per kind; more needs --force (a huge count once filled a disk)


@dataclass(frozen=True)
class SeedCounts:
    accounts: int = 6
    contacts: int = 15
    leads: int = 6
    deals: int = 5
    tickets: int = 12


def _duplicate(i: int, messy: bool) -> bool:
    """Whether the i-th contact takes its predecessor's email: one in seven when messy, one
    in a hundred otherwise. By position, not at random, so that the choice does not shift
    the random values of every other field."""
    return i % 7 == 3 if messy else i % 100 == 99


def _base(backend: LocalBackend) -> None:
    """Users, portals and agents every sandbox has; added once."""
    db = backend.db
    with db.transaction() as conn:
        for email, name, profile in CRM_USERS:
            if backend.crm.user(email) is None:
                conn.execute("INSERT INTO crm_users VALUES (?, ?, ?, ?, 'active')",
                             (db.new_id("crm"), email, name, profile))
        if db.meta("owner") is None:
            db.set_meta("owner", OWNER)
        for name, admin, admin_name in PORTALS:
            if not any(p.name == name for p in backend.all_portals()):
                backend.add_portal(name, admin, admin_name)
        first = backend.all_portals()[0]
        now = clock.now_iso()
        for email, name, role in AGENTS:
            conn.execute("INSERT OR IGNORE INTO agents (id, portal_id, email, name, role, status, "
                         "invited_time, activated_time) VALUES (?, ?, ?, ?, ?, 'active', ?, ?)",
                         (db.new_id("desk"), first.id, email, name, role, now, now))


def seed(backend: LocalBackend, counts: SeedCounts, random_seed: int, messy: bool = False,
         progress: Progress | None = None) -> dict[str, int]:
    """Add users, portals and records; returns how many records of each kind were added."""
    progress = progress or Progress()
    _base(backend)
    crm, db = backend.crm, backend.db
    existing = db.conn.execute("SELECT count(*) FROM records").fetchone()[0]
    rng = random.Random(f"{random_seed}:{existing}")
    tag = existing  # keeps generated emails unique across repeated seeds
    added = {"Accounts": 0, "Contacts": 0, "Leads": 0, "Deals": 0, "Partners": 0,
             "desk contacts": 0, "desk accounts": 0, "tickets": 0}

    def count(kind: str) -> None:
        added[kind] += 1
        progress.phase("Seeding", added)

    def person() -> tuple[str, str]:
        return rng.choice(FIRST), rng.choice(LAST)

    with db.transaction():
        account_ids, account_names = [], []
        for i in range(counts.accounts):
            name = f"{rng.choice(COMPANY)} {rng.choice(SUFFIX)}"
            if name in account_names:
                name = f"{name} {i + 2}"
            data = {"Account_Name": name, "Industry": rng.choice(INDUSTRY),
                    "Billing_City": rng.choice(CITY),
                    "Website": f"https://{name.split()[0].lower()}{tag + i}.example"}
            if rng.random() > 0.25:
                data["Phone"] = f"+49 30 {rng.randint(1000000, 9999999)}"
            account_ids.append(raise_first(crm.create_records("Accounts", [data])))
            account_names.append(name)
            count("Accounts")

        contact_rows: list[tuple[str, dict[str, str]]] = []
        for i in range(counts.contacts):
            first, last = person()
            email = f"{first}.{last}{tag + i}@{rng.choice(('mail', 'post', 'web'))}.example"
            if i % 5 == 1:
                email = email.upper()  # mixed case, as people type them
            if _duplicate(i, messy) and contact_rows:
                email = contact_rows[-1][1]["Email"]  # a duplicate by email
            data = {"First_Name": first, "Last_Name": last, "Email": email.lower()
                    if i % 5 != 1 else email, "Mailing_City": rng.choice(CITY)}
            if rng.random() > 0.3:
                data["Phone"] = f"+49 40 {rng.randint(1000000, 9999999)}"
            if account_ids and rng.random() > 0.2:
                data["Account_Name"] = rng.choice(account_ids)
            contact_rows.append((raise_first(crm.create_records("Contacts", [data])), data))
            count("Contacts")

        for i in range(counts.leads):
            first, last = person()
            raise_first(crm.create_records("Leads", [{
                "First_Name": first, "Last_Name": last, "Company": rng.choice(COMPANY),
                "Email": f"{first.lower()}.{last.lower()}{tag + i}@lead.example",
                "Lead_Status": rng.choice(LEAD_STATUS)}]))
            count("Leads")

        for i in range(counts.deals):
            closing = clock.now() + timedelta(days=rng.randint(5, 90))
            deal: dict[str, Any] = {
                "Deal_Name": f"{rng.choice(COMPANY)} renewal {tag + i}",
                "Stage": rng.choice(STAGES), "Amount": float(rng.randint(5, 250) * 1000),
                "Closing_Date": closing.date().isoformat()}
            if contact_rows:
                cid, cdata = rng.choice(contact_rows)
                deal["Contact_Name"] = cid
                if cdata.get("Account_Name"):
                    deal["Account_Name"] = cdata["Account_Name"]
            raise_first(crm.create_records("Deals", [deal]))
            count("Deals")
        if counts.accounts:
            raise_first(crm.create_records("Partners", [{
                "Name": f"{rng.choice(COMPANY)} Partner {tag}",
                "Partner_Email": f"partner{tag}@partner.example"}]))
            count("Partners")

        _seed_desk(backend, rng, counts, contact_rows, account_names, tag, count)
    return added


def _seed_desk(backend: LocalBackend, rng: random.Random, counts: SeedCounts,
               contact_rows: list[tuple[str, dict[str, str]]], account_names: list[str],
               tag: int, count: Callable[[str], None]) -> None:
    """Desk data of the first portal: some contacts and accounts that already match the CRM
    (by email in another case, by name), some Desk-only, and tickets with activity."""
    desk = backend.desk(backend.all_portals()[0].id)
    department = desk.departments()[0]["id"]
    agents = [a for a in desk.agents() if a.status == "active"]
    for name in account_names[: len(account_names) // 2]:
        desk.create_record("accounts", {"accountName": name.upper() if rng.random() > 0.5
                                        else name})
        count("desk accounts")
    desk_contacts = []
    for _cid, data in contact_rows[: len(contact_rows) // 3]:
        desk_contacts.append(desk.create_record("contacts", {
            "firstName": data["First_Name"], "lastName": data["Last_Name"],
            "email": data["Email"].swapcase() if rng.random() > 0.5 else data["Email"]}).id)
        count("desk contacts")
    for i in range(max(2, counts.contacts // 5) if counts.contacts else 0):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        desk_contacts.append(desk.create_record("contacts", {
            "firstName": first, "lastName": last,
            "email": f"{first.lower()}{tag + i}@desk-only.example"}).id)
        count("desk contacts")
    now = clock.now()
    for i in range(counts.tickets):
        if not desk_contacts:
            break
        status = rng.choice(("Open", "Open", "On Hold", "Escalated", "Closed"))
        due = now + timedelta(hours=rng.randint(-72, 120))
        ticket = desk.create_record("tickets", {
            "subject": rng.choice(SUBJECTS), "contactId": rng.choice(desk_contacts),
            "departmentId": department, "status": status,
            "priority": rng.choice(("Low", "Medium", "High", "Urgent")),
            "dueDate": clock.iso(due), "assigneeId": rng.choice(agents).id,
            "description": "Customer wrote in about this problem."})
        count("tickets")
        if i % 2 == 0:
            desk.add_ticket_event(ticket.id, "reply", rng.choice(agents).email,
                                  {"content": "Thanks, we are looking into it.", "to": []})
        if i % 3 == 0:
            desk.add_ticket_event(ticket.id, "customer-reply", "customer",
                                  {"content": "Any news on this?"})
        if i % 4 == 1:
            desk.add_ticket_event(ticket.id, "comment", rng.choice(agents).email,
                                  {"content": "Checked the logs.", "public": False})
        if status == "Closed":
            desk.add_ticket_event(ticket.id, "rating", "customer",
                                  {"rating": rng.choice(("good", "good", "okay", "bad"))})
