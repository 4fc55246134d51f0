"""Records, field metadata and the validation Zoho applies to writes (pure)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from deskctl.errors import ValidationError

EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
PHONE_RE = re.compile(r"^[0-9+()\-. /x]{3,30}$")


@dataclass(frozen=True)
class FieldMeta:
    """One field of a module. ``type``: text, textarea, email, phone, website, picklist, date,
    datetime, currency, integer, boolean, lookup. ``enabled`` is false for hidden fields."""

    api_name: str
    label: str
    type: str = "text"
    required: bool = False
    custom: bool = False
    enabled: bool = True
    read_only: bool = False
    max_length: int = 255
    choices: tuple[str, ...] = ()
    lookup: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"api_name": self.api_name, "label": self.label,
                                "type": self.type, "required": self.required,
                                "custom": self.custom, "enabled": self.enabled}
        if self.choices:
            data["choices"] = list(self.choices)
        if self.lookup:
            data["lookup"] = self.lookup
        return data


@dataclass(frozen=True)
class ModuleMeta:
    api_name: str
    label: str
    custom: bool
    fields: tuple[FieldMeta, ...]

    def field(self, name: str) -> FieldMeta | None:
        return next((f for f in self.fields if f.api_name == name), None)

    @property
    def email_fields(self) -> list[FieldMeta]:
        return [f for f in self.fields if f.type == "email" and f.enabled]


@dataclass(frozen=True, slots=True)
class Record:
    """A CRM or Desk record: id, field values and Zoho's created/modified times (ISO 8601
    UTC, ``...Z``; the local sandbox's modified times may add microseconds). A field
    missing from ``data`` is blank, unless it is named in ``unknown``: the answer did not
    carry it (Zoho omits fields hidden from the API user's profile), so its value is not
    known and must not be taken as blank. An empty
    ``modified_time`` is unknown too (Desk's contactsByIds answers none): no other time
    stands in for it, and the ``newest`` policy never takes it as the newer side."""

    id: str
    data: dict[str, Any] = field(default_factory=dict)
    created_time: str = ""
    modified_time: str = ""
    unknown: frozenset[str] = frozenset()

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, **self.data, "created_time": self.created_time,
                "modified_time": self.modified_time}


def instant(text: str) -> datetime:
    """A time from either Zoho service as an aware UTC datetime, for comparing instants
    rather than strings: CRM writes ``2026-11-28T10:00:00+05:30`` (offset, seconds;
    crm-api.md §2), Desk ``2026-11-28T04:30:00.000Z`` (UTC, milliseconds; desk-api.md §10),
    deskctl ``2026-11-28T04:30:00Z``. A time without an offset is taken as UTC."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def known_instant(text: str | None) -> datetime | None:
    """``instant``, or None for a missing or unreadable time (one that cannot be compared)."""
    try:
        return instant(text) if text else None
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Tombstone:
    id: str
    deleted_time: str


@dataclass(frozen=True, slots=True)
class WriteResult:
    """Per-record outcome of a batch write (Zoho answers 207 with one of these per record)."""

    ok: bool
    id: str | None = None
    error: str | None = None
    field: str | None = None
    modified_time: str | None = None  # the written record's, when the answer gives it
    not_found: bool = False  # the record to update or delete no longer exists
    lost: bool = False  # no answer: the write may or may not have been carried out


def _check_value(meta: FieldMeta, value: Any) -> str | None:
    """Why ``value`` is not valid for ``meta``, or None."""
    if value is None or value == "":
        return None
    kind = meta.type
    if kind in ("text", "textarea", "email", "phone", "website", "picklist"):
        if not isinstance(value, str):
            return f"expected text, got {type(value).__name__}"
        limit = 32000 if kind == "textarea" else meta.max_length
        if len(value) > limit:
            return f"longer than {limit} characters"
        if kind == "email" and not EMAIL_RE.match(value):
            return f"invalid email address {value!r}"
        if kind == "phone" and not PHONE_RE.match(value):
            return f"invalid phone number {value!r}"
        if kind == "picklist" and meta.choices and value not in meta.choices:
            return f"invalid value {value!r} (choose from: {', '.join(meta.choices)})"
        return None
    if kind == "date":
        try:
            date.fromisoformat(str(value))
        except ValueError:
            return f"invalid date {value!r} (expected YYYY-MM-DD)"
        return None
    if kind == "datetime":
        try:
            datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return f"invalid date-time {value!r} (expected ISO 8601)"
        return None
    if kind in ("currency", "integer"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"expected a number, got {value!r}"
        if kind == "integer" and not float(value).is_integer():
            return f"expected a whole number, got {value!r}"
        return None
    if kind == "boolean":
        return None if isinstance(value, bool) else f"expected true or false, got {value!r}"
    if kind == "lookup":
        return None if isinstance(value, str) else f"expected a record id, got {value!r}"
    return None


def validate(module: ModuleMeta, data: dict[str, Any], *, partial: bool,
             exists: Callable[[str, str], bool] | None = None) -> list[tuple[str, str]]:
    """Problems with a write as (field, reason): unknown fields, bad values, lookups to
    records that ``exists(target, id)`` denies and, unless ``partial`` (an update),
    missing required fields."""
    problems: list[tuple[str, str]] = []
    for name, value in data.items():
        meta = module.field(name)
        if meta is None or not meta.enabled:
            problems.append((name, f"unknown field {name!r} in {module.api_name}"))
        elif meta.read_only:
            problems.append((name, f"field {name!r} is read-only"))
        else:
            reason = _check_value(meta, value)
            if reason:
                problems.append((name, f"{name}: {reason}"))
            elif meta.type == "lookup" and value and meta.lookup and exists is not None \
                    and not exists(meta.lookup, value):
                problems.append((name, f"{name}: no {meta.lookup} record with id {value}"))
    for meta in module.fields:
        if meta.required and (not partial or meta.api_name in data):
            value = data.get(meta.api_name)
            if value is None or (isinstance(value, str) and not value.strip()):
                problems.append((meta.api_name, f"required field {meta.api_name!r} is missing"))
    return problems


def ensure_valid(module: ModuleMeta, data: dict[str, Any], *, partial: bool,
                 exists: Callable[[str, str], bool] | None = None) -> None:
    """Raise ValidationError naming every problem ``validate`` finds."""
    problems = validate(module, data, partial=partial, exists=exists)
    if len(problems) == 1:
        raise ValidationError(problems[0][1], field=problems[0][0])
    if problems:
        raise ValidationError(f"{len(problems)} invalid fields", [r for _f, r in problems],
                              field=problems[0][0])


def coerce_text(meta: FieldMeta | None, text: str) -> Any:
    """Turn a FIELD=VALUE string from the command line into the field's value type."""
    if meta is None or text == "":
        return text if text != "" else None
    if meta.type in ("currency", "integer"):
        try:
            number = float(text)
        except ValueError:
            return text  # validation names the problem
        return int(number) if number.is_integer() and meta.type == "integer" else number
    if meta.type == "boolean":
        lowered = text.lower()
        if lowered in ("true", "yes", "1"):
            return True
        if lowered in ("false", "no", "0"):
            return False
    return text
