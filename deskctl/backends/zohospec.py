"""Zoho's OpenAPI facts, from the extract `make oas` writes (zoho_oas.json, made by
scripts/oas_extract.py from github.com/zoho/zohodesk-oas and github.com/zoho/crm-oas at the
commits it records): which operation a request is, whether a request follows the
specification, what a response may contain. The emulator answers through `conform` and
refuses through `request_problems`; the tests check both directions with `problems`."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

EXTRACT = Path(__file__).with_name("zoho_oas.json")
# desk-api.md §1.2 / DeskAPIDocument "Headers": orgId travels as a header, though the Desk
# files declare it as a query parameter; likewise CRM's If-Modified-Since.
HEADER_PARAMS = {"orgid", "if-modified-since"}
# Answers Zoho documents beyond what its JSON files list (they list one success status):
# 204 to a GET with nothing to return (DeskAPIDocument "HTTP status codes": 204 No Content;
# CRM v8 "Status codes": 204 NO_CONTENT), and CRM's 201 CREATED / 207 MULTI_STATUS to
# record writes (CRM v8 "Insert Records", "Update Records", "Status codes").
# A COQL query that matches nothing answers 204 as well (crm-oas v8 executeCOQLQuery; Get
# Records through COQL Query).
ALSO_ANSWERS = {"GET": {204}, "crm POST": {201, 207}, "crm PUT": {207}, "crm DELETE": {207},
                "POST /crm/v8/coql": {204}}
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
    "object": (dict,), "array": (list,), "null": (type(None),)}


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    spec: dict[str, Any]

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"


@cache
def extract() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(EXTRACT.read_text())
    return loaded


@cache
def operations() -> tuple[Operation, ...]:
    ops = []
    for key, spec in extract()["operations"].items():
        method, template = key.split(" ", 1)
        pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$")
        ops.append(Operation(method, template, pattern, spec))
    # literal paths before templated ones: /contacts/search before /contacts/{contactId}
    return tuple(sorted(ops, key=lambda o: (o.template.count("{"), -len(o.template))))


def find(method: str, path: str) -> Operation | None:
    return next((op for op in operations() if op.method == method and op.pattern.match(path)),
                None)


def resolve(node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = extract()["schemas"][node["$ref"]]
    return node


def _json_schema(holder: Any) -> Any:
    content = (resolve(holder) or {}).get("content") or {}
    return (content.get("application/json") or {}).get("schema")


def answers(op: Operation) -> set[int]:
    """Every status this operation may answer with."""
    listed = {int(s) for s in op.spec["responses"] if s.isdigit()}
    return listed | ALSO_ANSWERS.get(op.method, set()) | ALSO_ANSWERS.get(
        f"{op.spec['service']} {op.method}", set()) | ALSO_ANSWERS.get(
        f"{op.method} {op.template}", set())


def response_schema(op: Operation, status: int) -> Any:
    """The JSON schema of a response status, None when Zoho lists no body for it."""
    return _json_schema(op.spec["responses"].get(str(status)))


def request_schema(op: Operation) -> Any:
    return _json_schema(op.spec.get("requestBody"))


def _variants(schema: dict[str, Any], value: Any) -> list[Any]:
    """The oneOf/anyOf branches a value may take: the discriminator's pick when it names one."""
    branches = schema.get("oneOf") or schema.get("anyOf") or []
    mapping = (schema.get("discriminator") or {}).get("mapping") or {}
    prop = (schema.get("discriminator") or {}).get("propertyName")
    if isinstance(value, dict) and prop and value.get(prop) in mapping:
        return [{"$ref": mapping[value[prop]]}]
    return list(branches)


def properties(schema: Any) -> tuple[dict[str, Any], bool]:
    """Declared properties (allOf merged) and whether others are allowed."""
    schema = resolve(schema)
    if not isinstance(schema, dict):
        return {}, True
    props = dict(schema.get("properties", {}))
    closed = schema.get("additionalProperties", True) is False
    for part in schema.get("allOf", []):
        more, part_closed = properties(part)
        props.update(more)
        closed = closed or part_closed
    return props, not closed


def _required(schema: Any) -> set[str]:
    schema = resolve(schema)
    if not isinstance(schema, dict):
        return set()
    found = set(schema.get("required", []))
    for part in schema.get("allOf", []):
        found |= _required(part)
    return found


def _allows_null(schema: Any) -> bool:
    schema = resolve(schema)
    types = schema.get("type") if isinstance(schema, dict) else None
    if types is None:
        return True
    return bool(schema.get("nullable")) or "null" in ([types] if isinstance(types, str)
                                                       else types)


def _identifier(key: str) -> bool:
    return key == "id" or key.endswith(("_id", "Id"))


def _empty(schema: Any, depth: int = 0) -> Any:
    """The emptiest value a required, non-nullable field can take: what the emulator answers
    for a property the sandbox does not model (an identifier it never invents)."""
    schema = resolve(schema)
    if not isinstance(schema, dict) or depth > 3:
        return None
    if schema.get("enum"):
        return schema["enum"][0]
    variants = schema.get("oneOf") or schema.get("anyOf")
    if variants:
        return _empty(variants[0], depth + 1)
    types = schema.get("type")
    kind = (types if isinstance(types, str) else (types or ["object"])[0]) if types else (
        "object" if schema.get("properties") or schema.get("allOf") else "string")
    if kind == "object":
        return conform(schema, {}, invent=True) if depth < 3 else {}
    return {"string": "", "integer": 0, "number": 0, "boolean": False, "array": []}.get(kind)


_SKIP = object()
# (id of schema, invent) -> (the schema, kept alive so its id stays its own; plan)
_PLANS: dict[tuple[int, bool], tuple[Any, tuple[dict[str, Any], bool | None,
                                                dict[str, Any]]]] = {}


def _object_plan(key: int, schema: dict[str, Any],
                 invent: bool) -> tuple[dict[str, Any], bool | None, dict[str, Any]]:
    """Per object schema, once: its properties, whether other keys stay (None: keep the
    value as it is), and what each required key is filled with when absent."""
    cached = _PLANS.get((key, invent))
    if cached is None:
        props, open_ = properties(schema)
        keep: bool | None = open_
        if (not props and open_) or schema.get("patternProperties"):
            keep = None
        fills: dict[str, Any] = {}
        for name in sorted(_required(schema)):
            if name not in props or _allows_null(props[name]):
                fills[name] = None
            elif invent or not _identifier(name):  # a made-up object has made-up ids
                fills[name] = _empty(props[name])
            else:
                fills[name] = _SKIP
        cached = _PLANS[(key, invent)] = (schema, (props, keep, fills))
    return cached[1]


def conform(schema: Any, value: Any, invent: bool = False) -> Any:
    """The value as Zoho would answer it under this schema: keys the schema does not declare
    dropped, required keys it lacks present as null (Zoho answers empty fields as null)
    where the schema allows null, else as the emptiest value of their type; identifiers
    are never made up for the sandbox's own objects, so what still breaks the schema,
    `problems` reports."""
    if not isinstance(value, (dict, list)):
        return value  # scalars pass as they are: `problems` judges them
    schema = resolve(schema)
    if not isinstance(schema, dict):
        return value
    variants = _variants(schema, value)
    if variants:
        # the branch that loses least of the value (undeclared keys, values outside an
        # enum), then lacks the fewest required keys
        def score(variant: Any) -> tuple[int, int, int]:
            if not isinstance(value, dict):
                return (len(problems(variant, value)), 0, 0)
            props, open_ = properties(variant)
            keys = set(value)
            lost = 0 if open_ else len(keys - set(props) - _required(variant))
            lost += sum(1 for k in keys & set(props) if "enum" in resolve(props[k])
                        and value[k] not in resolve(props[k])["enum"])
            return (lost, len(_required(variant) - keys), -len(keys & set(props)))
        return conform(min(variants, key=score), value)
    if isinstance(value, dict):
        props, open_, fills = _object_plan(id(schema), schema, invent)
        if open_ is None:
            return value
        out = {k: conform(props[k], v) if k in props else v for k, v in value.items()
               if k in props or k in fills or open_}
        for key, fill in fills.items():
            if key not in out and fill is not _SKIP:
                out[key] = copy.deepcopy(fill) if isinstance(fill, (dict, list)) else fill
        return out
    if isinstance(value, list) and "items" in schema:
        return [conform(schema["items"], item) for item in value]
    return value


def problems(schema: Any, value: Any, where: str = "$", depth: int = 0,
             required: bool = True) -> list[str]:
    """Where a JSON value breaks the schema (types, enums, lengths, undeclared keys of closed
    objects, and with `required` missing required keys); empty when it follows it."""
    schema = resolve(schema)
    if not isinstance(schema, dict) or depth > 30:
        return []
    variants = _variants(schema, value)
    if variants:
        results = [problems(v, value, where, depth + 1, required) for v in variants]
        if all(results):
            return min(results, key=len)
    found: list[str] = []
    types = schema.get("type")
    if types is not None:
        allowed = [types] if isinstance(types, str) else list(types)
        if schema.get("nullable"):
            allowed.append("null")
        python = tuple(t for name in allowed for t in _TYPES.get(name, (object,)))
        if not isinstance(value, python) or (isinstance(value, bool) and bool not in python):
            return [f"{where}: {type(value).__name__} where the schema says {allowed}"]
    if value is None:
        return []
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{where}: {value!r} is not one of {schema['enum']}")
    if isinstance(value, str) and "maxLength" in schema and len(value) > schema["maxLength"]:
        found.append(f"{where}: longer than {schema['maxLength']} characters")
    if isinstance(value, dict) and not variants:
        props, open_ = properties(schema)
        if required:
            for key in sorted(_required(schema) - set(value)):
                found.append(f"{where}: required {key!r} is missing")
        patterned = schema.get("patternProperties") or {}
        for key, item in value.items():
            if key in props:
                found += problems(props[key], item, f"{where}.{key}", depth + 1, required)
            elif patterned:  # Java-dialect patterns (custom fields): any name, typed values
                found += problems(next(iter(patterned.values())), item, f"{where}.{key}",
                                  depth + 1, required)
            elif not open_ and key not in _required(schema):
                found.append(f"{where}: {key!r} is not declared")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            found += problems(schema["items"], item, f"{where}[{i}]", depth + 1, required)
    return found


def request_problems(method: str, url: str, headers: dict[str, str],
                     body: Any = None) -> list[str]:
    """Where a request breaks the specification: an operation that does not exist, an
    undeclared query parameter or header (Zoho: 422 "Extra query parameter"), a value
    outside an enum, a missing required parameter, a JSON body against the request schema."""
    parsed = urlparse(url)
    op = find(method, parsed.path)
    if op is None:
        return [f"{method} {parsed.path}: no such operation in the specifications"]
    params = [resolve(p) for p in op.spec["parameters"]]
    declared = {p["name"]: p for p in params}
    query = {k: v[-1] for k, v in parse_qs(parsed.query, keep_blank_values=True).items()}
    sent = {k.lower() for k in headers}
    found = []
    for name, value in query.items():
        spec = declared.get(name)
        if spec is None or spec.get("in") != "query":
            found.append(f"{op.name}: query parameter {name!r} is not declared")
            continue
        schema = resolve(spec.get("schema", {}))
        enum = schema.get("enum") or (resolve(schema.get("items")) or {}).get("enum")
        if enum and value not in enum and not all(v in enum for v in value.split(",")):
            found.append(f"{op.name}: {name}={value!r} is not one of {enum}")
    for spec in params:
        name = spec["name"]
        if name.lower() in HEADER_PARAMS:
            present = name in query or name.lower() in sent
        elif spec.get("in") == "query":
            present = name in query
        else:
            continue
        # GET /organizations is the one Desk call without orgId (DeskAPIDocument "Headers")
        if spec.get("required") and not present and op.template != "/api/v1/organizations":
            found.append(f"{op.name}: required parameter {name!r} is missing")
    for header in sent & HEADER_PARAMS:
        if not any(p["name"].lower() == header for p in params):
            found.append(f"{op.name}: header {header!r} is not declared")
    if body is not None:
        schema = request_schema(op)
        if schema is None:
            found.append(f"{op.name}: sends a JSON body the operation lacks")
        else:
            found += problems(schema, body, f"{op.name} body", required=False)
        needed = (op.spec.get("requiredBody") or {}).get("fields", [])
        for alternatives in needed:
            if isinstance(body, dict) and not any(body.get(f) not in (None, "")
                                                  for f in alternatives):
                found.append(f"{op.name} body: required {' or '.join(alternatives)!r} is "
                             "missing")
    return found
