"""Desk answers of the emulator beyond records: a department's From addresses, the portal's
organizationFields and email threads, in the shapes of Zoho's specifications (the emulator
then cuts every answer to its response schema, see emulator_strict)."""

from __future__ import annotations

import zlib
from typing import Any

from deskctl.models.records import ModuleMeta
from deskctl.models.tickets import DEAL_LINK_FIELD, status_type

# our field types -> organizationFields `type` (Field.json commonFieldResponse.type)
DESK_TYPES = {"text": "Text", "textarea": "Textarea", "email": "Email", "phone": "Phone",
              "website": "URL", "picklist": "Picklist", "lookup": "LookUp",
              "datetime": "DateTime", "date": "Date", "integer": "Number",
              "currency": "Currency", "boolean": "Boolean"}


def stable_id(name: str) -> str:
    """A Zoho-like numeric id for metadata the sandbox keeps by name."""
    return f"5725767{zlib.crc32(name.encode()):012d}"


def addresses(text: Any) -> list[str]:
    """'a@x, b@y' (Desk's comma-separated to/cc) -> ['a@x', 'b@y']."""
    return [t.strip() for t in str(text or "").split(",") if t.strip()]


def from_addresses(rows: list[dict[str, Any]], active: str | None) -> list[dict[str, Any]]:
    """GET /mailReplyAddress?departmentId=&isActive= (MailReplyAddress.json)."""
    return [{"id": r["id"], "address": r["address"], "displayName": r["display_name"],
             "departmentId": r["department_id"], "isActive": bool(r["is_active"]),
             "isVerified": True, "serviceProviderType": "ZohoSMTP",
             "createdTime": r["created_time"].replace("Z", ".000Z"),
             "modifiedTime": r["created_time"].replace("Z", ".000Z")}
            for r in rows if active is None or str(bool(r["is_active"])).lower() == active]


def organization_fields(meta: ModuleMeta, deal_field: str) -> list[dict[str, Any]]:
    """GET /organizationFields?module= (Field.json getFields): the portal's fields, limits,
    statuses (with their statusType) and priorities."""
    rows = []
    for f in meta.fields:
        api_name = deal_field if f.api_name == DEAL_LINK_FIELD else f.api_name
        row: dict[str, Any] = {
            "id": stable_id(f"{meta.api_name}.{api_name}"), "apiName": api_name,
            "displayLabel": f.label, "i18NLabel": f.label, "name": f.label,
            "type": "AutoNumber" if f.read_only and f.type == "text"
            else DESK_TYPES.get(f.type, "Text"),
            "isCustomField": f.custom, "isMandatory": f.required, "isEncryptedField": False,
            "isTrackLastActivityTime": False, "maxLength": f.max_length}
        if f.choices:
            row["allowedValues"] = [
                {"value": c, "statusType": status_type({"status": c})}
                if f.api_name == "status" else {"value": c} for c in f.choices]
        rows.append(row)
    return rows


def thread(event: Any, created_time: str) -> dict[str, Any]:
    """An email thread (Thread.json emailThreadKeys): the From address is the portal's for
    our replies and forwards, the customer's for theirs; `author` is who wrote it."""
    incoming = event.kind.startswith("customer")
    return {"id": event.id, "channel": "EMAIL", "direction": "in" if incoming else "out",
            "isForward": event.kind == "forward",
            "fromEmailAddress": event.author if incoming else event.data.get("from"),
            "to": ",".join(event.data.get("to", [])), "cc": ",".join(event.data.get("cc", [])),
            "summary": event.data.get("content"),
            "author": {"email": event.author, "type": "END_USER" if incoming else "AGENT"},
            # "Forwarded threads are always private" (desk-api.md §4.9)
            "visibility": "private" if event.kind == "forward" else "public",
            "createdTime": created_time}
