"""Checks our HTTP traffic against Zoho's OpenAPI facts in deskctl/backends/zoho_oas.json
(the extract `make oas` makes from Zoho's published files): every request the zoho backend
sends, and every answer the emulator gives, in both test harnesses."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlparse

from deskctl.backends import zohospec


def check(method: str, url: str, headers: dict[str, str], body: bytes | None) -> list[str]:
    """Problems with one request; empty when it follows the specification."""
    return zohospec.request_problems(method, url, headers,
                                     json.loads(body) if body else None)


def check_response(method: str, url: str, status: int, body: bytes | None) -> list[str]:
    """Problems with one answer: a success status the operation does not list, a body on a
    204, or a body that breaks the response schema of its status."""
    path = urlparse(url).path
    op = zohospec.find(method, path)
    if op is None or "/oauth/" in path:
        return []
    where = f"{op.name} -> {status}"
    if 200 <= status < 300 and status not in zohospec.answers(op):
        return [f"{where}: Zoho documents no such answer "
                f"({', '.join(map(str, sorted(zohospec.answers(op))))})"]
    if status == 204:
        return [f"{where}: a 204 with a body"] if body else []
    # CRM's 201/207 carry the 200 schema (its JSON files list only 200 for writes)
    schema = zohospec.response_schema(op, status) or (
        zohospec.response_schema(op, 200) if 200 <= status < 300 else None)
    if schema is None:
        return []
    payload: Any = json.loads(body) if body else None
    return zohospec.problems(schema, payload, where)
