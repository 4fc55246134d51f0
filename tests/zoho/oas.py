"""Checks a request against Zoho's official OpenAPI specifications in ../shared/:
the operation exists (path and method), every query parameter and custom header is
declared (with its enum respected), required parameters are present, and the JSON body's
keys are properties of the request schema."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

SHARED = Path(__file__).resolve().parents[3] / "shared"
SPEC_DIRS = (SHARED / "zoho-crm-oas" / "v8.0", SHARED / "zoho-desk-oas" / "v1.0")
# Documented in ../shared/reference/desk-api.md but missing from the spec extract.
DOCUMENTED_ELSEWHERE = {("GET", "/api/v1/tickets/{ticketId}/History")}
# desk-api.md §1.2: orgId is a header; the Desk spec lists it as a query parameter.
HEADER_PARAMS = {"orgid", "if-modified-since"}


@cache
def _files() -> dict[str, dict[str, Any]]:
    files = {}
    for folder in SPEC_DIRS:
        if not folder.is_dir():
            raise FileNotFoundError(f"the Zoho specifications are missing: {folder}")
        for path in folder.glob("*.json"):
            files[path.name] = json.loads(path.read_text())
    return files


def _resolve(node: Any, file: str) -> tuple[Any, str]:
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        target, _, pointer = ref.partition("#")
        file = Path(target).name if target else file
        node = _files()[file]
        for part in pointer.strip("/").split("/"):
            node = node[part]
    return node, file


@cache
def _operations() -> list[tuple[str, re.Pattern[str], str, str]]:
    ops = []
    for name, spec in _files().items():
        for template, methods in spec.get("paths", {}).items():
            pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$")
            for method in methods:
                if method in ("get", "post", "put", "patch", "delete"):
                    ops.append((method.upper(), pattern, template, name))
    # literal paths before templated ones: /contacts/search before /contacts/{id}
    ops.sort(key=lambda o: (o[2].count("{"), -len(o[2])))
    return ops


def _parameters(op: dict[str, Any], file: str) -> list[dict[str, Any]]:
    return [_resolve(p, file)[0] for p in op.get("parameters", [])]


def _all_properties(schema: Any, file: str) -> dict[str, Any]:
    """Properties of a schema and everything it combines with allOf (refs resolved)."""
    schema, file = _resolve(schema, file)
    props = dict(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        props.update(_all_properties(part, file))
    return props


def _body_problems(schema: Any, file: str, body: Any, where: str, depth: int = 0) -> list[str]:
    schema, file = _resolve(schema, file)
    if depth > 4 or not isinstance(schema, dict):
        return []
    variants = schema.get("oneOf") or schema.get("anyOf")
    if variants:
        results = [_body_problems(v, file, body, where, depth + 1) for v in variants]
        return [] if any(not r for r in results) else results[0]
    if "allOf" in schema:
        schema = {"properties": _all_properties(schema, file),
                  "additionalProperties": schema.get("additionalProperties", True)}
    if isinstance(body, dict) and "properties" in schema:
        problems = []
        extra = schema.get("additionalProperties", True)
        for key, value in body.items():
            if key in schema["properties"]:
                problems += _body_problems(schema["properties"][key], file, value,
                                           f"{where}.{key}", depth + 1)
            elif extra is False or (extra is True and depth == 0):
                problems.append(f"{where}: {key!r} is not in the request schema")
        return problems
    if isinstance(body, list) and "items" in schema:
        return [p for item in body[:3] for p in
                _body_problems(schema["items"], file, item, f"{where}[]", depth + 1)]
    return []


def check(method: str, url: str, headers: dict[str, str], body: bytes | None) -> list[str]:
    """Problems with one request; empty when it follows the specification."""
    parsed = urlparse(url)
    path = parsed.path
    match = next(((template, file) for op_method, pattern, template, file in _operations()
                  if op_method == method and pattern.match(path)), None)
    if match is None:
        if any(m == method and re.match("^" + re.sub(r"\{[^}]+\}", "[^/]+", t) + "$", path)
               for m, t in DOCUMENTED_ELSEWHERE):
            return []
        return [f"{method} {path}: no such operation in the specifications"]
    template, file = match
    op = _files()[file]["paths"][template][method.lower()]
    params = _parameters(op, file)
    query = {k: v[-1] for k, v in parse_qs(parsed.query, keep_blank_values=True).items()}
    sent_headers = {k.lower() for k in headers}
    problems = []
    declared = {p["name"]: p for p in params}
    for name, value in query.items():
        spec = declared.get(name)
        if spec is None or spec.get("in") != "query":
            problems.append(f"{method} {template}: query parameter {name!r} is not declared")
            continue
        schema, _ = _resolve(spec.get("schema", {}), file)
        enum = schema.get("enum") or (schema.get("items") or {}).get("enum")
        if enum and value not in enum and not all(v in enum for v in value.split(",")):
            problems.append(f"{method} {template}: {name}={value!r} is not one of {enum}")
    for spec in params:
        name, where = spec["name"], spec.get("in")
        if name.lower() in HEADER_PARAMS:
            present = name in query or name.lower() in sent_headers
        elif where == "query":
            present = name in query
        else:
            continue
        if spec.get("required") and not present and not (
                name == "orgId" and path.endswith("/organizations")):
            problems.append(f"{method} {template}: required parameter {name!r} is missing")
    for header in sent_headers & HEADER_PARAMS:
        if not any(p["name"].lower() == header for p in params):
            problems.append(f"{method} {template}: header {header!r} is not declared")
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if body and "json" in content_type:
        request_body, rb_file = _resolve(op.get("requestBody", {}), file)
        schema = ((request_body.get("content") or {}).get("application/json") or {}).get(
            "schema")
        if schema is None:
            problems.append(f"{method} {template}: sends a JSON body the operation lacks")
        else:
            problems += _body_problems(schema, rb_file, json.loads(body), f"{method} {template}")
    return problems
