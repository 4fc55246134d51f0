"""Field mapping between CRM modules and Desk collections, checked against both sides'
metadata; values normalised into one canonical form so both sides can be compared and
fingerprinted. Pure: no I/O."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping as MappingType
from dataclasses import dataclass
from typing import Any

from deskctl.errors import ConfigError
from deskctl.models.records import ModuleMeta
from deskctl.models.sync import CRM, Side

MODULES = ("Accounts", "Contacts")  # sync order: a Contact's account link needs Accounts first
DESK_KIND = {"Accounts": "accounts", "Contacts": "contacts"}
DEFAULT_MAPPING: dict[str, dict[str, str]] = {
    "Accounts": {"Account_Name": "accountName", "Phone": "phone", "Website": "website"},
    "Contacts": {"First_Name": "firstName", "Last_Name": "lastName", "Email": "email",
                 "Phone": "phone", "Account_Name": "accountId"},
}
#: how an unmapped record is matched before anything is created (case-insensitive)
MATCH_FIELD = {"Accounts": ("Account_Name", "accountName"), "Contacts": ("Email", "email")}
#: fields searched to find a record this sync may have created before a crash
NAME_FIELD = {"Accounts": ("Account_Name", "accountName"), "Contacts": ("Last_Name", "lastName")}
COMPATIBLE = {"email": {"email", "text"}, "text": {"text", "email", "phone", "website",
                                                   "picklist", "textarea"},
              "phone": {"phone", "text"}, "website": {"website", "text"},
              "picklist": {"picklist", "text"}, "textarea": {"textarea", "text"},
              "lookup": {"lookup"}}


@dataclass(frozen=True)
class FieldPair:
    crm: str
    desk: str
    type: str  # the CRM field's type; "lookup" fields point to Accounts

    def name(self, side: Side) -> str:
        return self.crm if side == CRM else self.desk


@dataclass(frozen=True)
class ModuleMapping:
    module: str
    kind: str
    fields: tuple[FieldPair, ...]

    @property
    def lookups(self) -> tuple[FieldPair, ...]:
        return tuple(f for f in self.fields if f.type == "lookup")

    def side_field(self, side: Side, canonical_name: str) -> str:
        """A canonical (CRM) field name as ``side`` calls it."""
        return next(f.name(side) for f in self.fields if f.crm == canonical_name)


def build_mappings(configured: MappingType[str, Any] | None, crm: dict[str, ModuleMeta],
                   desk: dict[str, ModuleMeta], source: str) -> dict[str, ModuleMapping]:
    """The mapping per module from config (or defaults), validated against both sides'
    field metadata; every problem is reported at once, naming the key and its source."""
    configured = configured or {}
    problems: list[str] = []
    for module in configured:
        if module not in MODULES:
            problems.append(f"{source}: sync.mapping.{module}: only {', '.join(MODULES)} sync")
    result = {}
    for module in MODULES:
        pairs = configured.get(module, DEFAULT_MAPPING[module])
        if not isinstance(pairs, MappingType) or not pairs:
            problems.append(f"{source}: sync.mapping.{module}: expected CRM_FIELD: desk_field "
                            "pairs")
            continue
        fields = []
        seen_desk: set[str] = set()
        for crm_name, desk_name in pairs.items():
            where = f"{source}: sync.mapping.{module}.{crm_name}"
            crm_field = crm[module].field(str(crm_name))
            desk_field = desk[DESK_KIND[module]].field(str(desk_name))
            if crm_field is None or not crm_field.enabled:
                problems.append(f"{where}: no CRM field {crm_name!r} in {module}")
            if desk_field is None or not desk_field.enabled:
                problems.append(f"{where}: no Desk field {desk_name!r} in {DESK_KIND[module]}")
            if crm_field is None or desk_field is None:
                continue
            if desk_field.read_only or crm_field.read_only:
                problems.append(f"{where}: {desk_name} is read-only")
            elif desk_field.type not in COMPATIBLE.get(crm_field.type, {crm_field.type}):
                problems.append(f"{where}: a {crm_field.type} field cannot map to the "
                                f"{desk_field.type} field {desk_name}")
            elif crm_field.type == "lookup" and crm_field.lookup != "Accounts":
                problems.append(f"{where}: only links to Accounts can be synced")
            elif desk_name in seen_desk:
                problems.append(f"{where}: {desk_name} is mapped twice")
            else:
                seen_desk.add(str(desk_name))
                fields.append(FieldPair(str(crm_name), str(desk_name), crm_field.type))
        match_crm, match_desk = MATCH_FIELD[module]
        if not any(f.crm == match_crm and f.desk == match_desk for f in fields) and \
                not any(p.startswith(f"{source}: sync.mapping.{module}") for p in problems):
            problems.append(f"{source}: sync.mapping.{module}: must map {match_crm} to "
                            f"{match_desk} (records are matched by it)")
        result[module] = ModuleMapping(module, DESK_KIND[module], tuple(fields))
    if problems:
        raise ConfigError("invalid sync mapping", problems)
    return result


def _normalise(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        value = " ".join(value.split())
        if not value:
            return None
        return value.lower() if kind == "email" else value
    return value


def canonical(mapping: ModuleMapping, side: Side, data: dict[str, Any],
              account_crm_id: Any) -> dict[str, Any]:
    """Mapped values keyed by the CRM field name. ``account_crm_id(side, id)`` turns a
    lookup into the linked CRM Account id (or a side-tagged id when not linked)."""
    values = {}
    for pair in mapping.fields:
        raw = data.get(pair.name(side))
        if pair.type == "lookup":
            values[pair.crm] = account_crm_id(side, raw) if raw else None
        else:
            values[pair.crm] = _normalise(pair.type, raw)
    return values


_CANONICAL = json.JSONEncoder(sort_keys=True, default=str, separators=(",", ":"))


def fingerprint(values: dict[str, Any]) -> str:
    return hashlib.sha256(_CANONICAL.encode(values).encode()).hexdigest()[:32]


def match_key(module: str, values: dict[str, Any]) -> str | None:
    value = values.get(MATCH_FIELD[module][0])
    return str(value).lower() if value else None


def intent_keys(module: str, values: dict[str, Any]) -> list[str]:
    """What finds a record this sync created: its match key and its name, tagged with the
    canonical field (e.g. 'Email=a@x.example', 'Last_Name=ames'), lower case."""
    keys = []
    for name in dict.fromkeys((MATCH_FIELD[module][0], NAME_FIELD[module][0])):
        value = values.get(name)
        if value:
            keys.append(f"{name}={str(value).lower()}")
    return keys


def to_side(mapping: ModuleMapping, side: Side, values: dict[str, Any],
            account_side_id: Any) -> dict[str, Any]:
    """Canonical values (all or some fields) as a write for ``side``; lookups translated
    by ``account_side_id``."""
    data = {}
    for pair in mapping.fields:
        if pair.crm not in values:
            continue
        value = values[pair.crm]
        if pair.type == "lookup" and value is not None:
            value = account_side_id(side, value)
        data[pair.name(side)] = value
    return data
