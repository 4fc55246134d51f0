"""What makes the emulator as strict as Zoho, driven by the OpenAPI extract (zohospec): a
request that breaks the specification is refused the way Zoho refuses it, and every answer
is cut to the response schema of its operation, so a field a view does not return (say
`modifiedTime` in the Desk contact list, Contact.json) is absent here too. A new endpoint
needs its operation in scripts/oas_extract.py; routing it is then all that is left."""

from __future__ import annotations

import re
from typing import Any

from deskctl.backends import zohospec

_BODY = re.compile(r"body((?:\.[^:. ]+)*): (?:required '([^']+)' is missing|"
                   r"'([^']+)' is not declared|(.*))$")


def refusal(service: str, found: list[str]) -> tuple[int, dict[str, Any]]:
    """Zoho's answer to a request that breaks the specification.

    Desk: 422 UNPROCESSABLE_ENTITY for parameters ("Extra query parameter 'x' is present in
    the input", desk-api.md §9.1), 422 INVALID_DATA with `errors[]` (JSON-pointer field
    names, errorType missing|invalid) for bodies (Common.json invalidDataErrorResponse).
    CRM: 400 with code/details/message/status (common.json, "INVALID_DATA")."""
    if service == "crm":
        return 400, {"code": "INVALID_DATA", "details": {}, "message": "; ".join(found),
                     "status": "error"}
    errors = []
    for problem in found:
        match = _BODY.search(problem)
        if match is None:
            continue
        path, missing, extra, other = match.groups()
        pointer = path.replace(".", "/") + "/" + (missing or extra or "")
        errors.append({"fieldName": pointer.rstrip("/") or "/",
                       "errorType": "missing" if missing else "invalid",
                       "errorMessage": problem})
    if not errors:
        return 422, {"errorCode": "UNPROCESSABLE_ENTITY", "message": "; ".join(found)}
    return 422, {"errorCode": "INVALID_DATA", "message": "; ".join(found), "errors": errors}


def answer(op: zohospec.Operation, status: int, body: Any) -> Any:
    """The body cut to the response schema of this status (CRM's writes answer 201/207
    with the 200 schema: its JSON files list only 200 for them)."""
    if body is None or not 200 <= status < 300:
        return body
    schema = zohospec.response_schema(op, status) or zohospec.response_schema(op, 200)
    return body if schema is None else zohospec.conform(schema, body)
