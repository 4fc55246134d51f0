"""Make deskctl/backends/zoho_oas.json: the facts of Zoho's published OpenAPI files that the
project checks against (paths, methods, parameters, request and response schemas, limits),
for the operations in OPERATIONS only, so that nothing needs Zoho's files at run or test time.

    python scripts/oas_extract.py DESK_OAS_DIR CRM_OAS_DIR [--out FILE]
    make oas OAS_DIRS="DESK_OAS_DIR CRM_OAS_DIR"

The directories are copies of github.com/zoho/zohodesk-oas (folder v1.0) and
github.com/zoho/crm-oas (folder v8.0) at the commits in SOURCES; both are required. The
extract goes to deskctl/backends/zoho_oas.json unless --out names another file.
Operations Zoho documents but whose OpenAPI file is not in those copies come from
scripts/oas_supplement.py (transcribed from the upstream file or the documentation page it
names). To cover a new endpoint: add it to OPERATIONS (or to the supplement) and rerun.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from oas_supplement import SUPPLEMENT  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "deskctl" / "backends" / "zoho_oas.json"
USAGE = ("usage: oas_extract.py DESK_OAS_DIR CRM_OAS_DIR [--out FILE] "
         "(or make oas OAS_DIRS=\"DESK_OAS_DIR CRM_OAS_DIR\")")
SOURCES = {
    "desk": {"repository": "https://github.com/zoho/zohodesk-oas",
             "commit": "83b5c18947ef54052eb83d221ff54c2ee5a65e52", "folder": "v1.0"},
    "crm": {"repository": "https://github.com/zoho/crm-oas",
            "commit": "45dff2cc9c69403c85b8a3642e7056528dc668d5", "folder": "v8.0"},
}

# (service, method, path template as Zoho's file spells it). Keep sorted by area.
OPERATIONS: tuple[tuple[str, str, str], ...] = (
    # Desk: portals, agents, departments
    ("desk", "GET", "/api/v1/organizations"),
    ("desk", "GET", "/api/v1/agents"),
    ("desk", "POST", "/api/v1/agents"),
    ("desk", "PATCH", "/api/v1/agents/{agentId}"),
    ("desk", "GET", "/api/v1/departments"),
    # Desk: contacts, accounts, tickets (lists, one record, writes, trash, search)
    ("desk", "GET", "/api/v1/contacts"),
    ("desk", "POST", "/api/v1/contacts"),
    ("desk", "GET", "/api/v1/contacts/{contactId}"),
    ("desk", "PATCH", "/api/v1/contacts/{contactId}"),
    ("desk", "POST", "/api/v1/contacts/moveToTrash"),
    ("desk", "GET", "/api/v1/contacts/contactsByIds"),
    ("desk", "GET", "/api/v1/contacts/search"),
    ("desk", "GET", "/api/v1/accounts"),
    ("desk", "POST", "/api/v1/accounts"),
    ("desk", "GET", "/api/v1/accounts/{accountId}"),
    ("desk", "PATCH", "/api/v1/accounts/{accountId}"),
    ("desk", "POST", "/api/v1/accounts/moveToTrash"),
    ("desk", "GET", "/api/v1/accounts/search"),
    ("desk", "GET", "/api/v1/tickets"),
    ("desk", "POST", "/api/v1/tickets"),
    ("desk", "GET", "/api/v1/tickets/{ticketId}"),
    ("desk", "PATCH", "/api/v1/tickets/{ticketId}"),
    ("desk", "POST", "/api/v1/tickets/moveToTrash"),
    ("desk", "GET", "/api/v1/tickets/search"),
    ("desk", "GET", "/api/v1/search"),
    # Desk: ticket activity
    ("desk", "GET", "/api/v1/tickets/{ticketId}/threads"),
    ("desk", "POST", "/api/v1/tickets/{ticketId}/sendReply"),
    ("desk", "GET", "/api/v1/tickets/{ticketId}/comments"),
    ("desk", "POST", "/api/v1/tickets/{ticketId}/comments"),
    ("desk", "GET", "/api/v1/tickets/{ticketId}/attachments"),
    ("desk", "POST", "/api/v1/tickets/{ticketId}/attachments"),
    ("desk", "GET", "/api/v1/tickets/{ticketId}/metrics"),
    ("desk", "GET", "/api/v1/contacts/{contactId}/history"),
    ("desk", "GET", "/api/v1/customerHappinessLinkHolder"),
    # CRM v8
    ("crm", "GET", "/crm/v8/users"),
    ("crm", "GET", "/crm/v8/settings/modules"),
    ("crm", "GET", "/crm/v8/settings/fields"),
    ("crm", "GET", "/crm/v8/{module_api_name}"),
    ("crm", "POST", "/crm/v8/{module_api_name}"),
    ("crm", "PUT", "/crm/v8/{module_api_name}"),
    ("crm", "DELETE", "/crm/v8/{module_api_name}"),
    ("crm", "GET", "/crm/v8/{module_api_name}/{id}"),
    ("crm", "GET", "/crm/v8/{module_api_name}/search"),
    ("crm", "GET", "/crm/v8/{module_api_name}/deleted"),
    ("crm", "GET", "/crm/v8/{module_api_name}/actions/count"),
    ("crm", "POST", "/crm/v8/coql"),
    ("crm", "GET", "/crm/v8/settings/recycle_bin"),
)

# Zoho's generated files mark nearly every property of a write body "required" (PATCH
# /tickets "requires" subject, priority, cf ...), which its API documentation contradicts, so
# the checks take the fields a request must carry from the documentation instead: each
# inner list is one requirement, met by any of its fields.
DESK_DOC = "https://desk.zoho.com/DeskAPIDocument"
REQUIRED_BODY: dict[str, tuple[list[list[str]], str]] = {
    "POST /api/v1/tickets": ([["subject"], ["departmentId"], ["contactId", "contact"]],
                             f"{DESK_DOC}#Tickets_Createaticket"),
    "POST /api/v1/contacts": ([["lastName"]], f"{DESK_DOC}#Contacts_Createacontact"),
    "POST /api/v1/accounts": ([["accountName"]], f"{DESK_DOC}#Accounts_Createanaccount"),
    "POST /api/v1/agents": ([["emailId"], ["lastName"], ["associatedDepartmentIds"],
                             ["rolePermissionType"]], f"{DESK_DOC}#Agents_Addagent"),
    "POST /api/v1/tickets/{ticketId}/comments": ([["content"]],
                                                 f"{DESK_DOC}#TicketsComments_Createcomment"),
    # channel EMAIL, the only one deskctl sends: Thread.json emailThreadSendReply.required,
    # "The from address in the email must be a from address configured in your help desk"
    "POST /api/v1/tickets/{ticketId}/sendReply": ([["channel"], ["content"],
                                                   ["fromEmailAddress"]],
                                                  f"{DESK_DOC}#Threads_SendEmailReply"),
    "POST /crm/v8/coql": ([["select_query"]],
                          "https://www.zoho.com/crm/developer/docs/api/v8/COQL-Overview.html"),
}

# Prose, samples and regular expressions (Java dialect, e.g. \\P{InBasicLatin}): not facts
# we check, and most of the files' bytes.
DROP = {"description", "summary", "tags", "example", "examples", "x-audience", "security",
        "style", "explode", "externalDocs", "pattern"}
METHODS = ("get", "post", "put", "patch", "delete")


class Extractor:
    def __init__(self, folders: dict[str, Path]) -> None:
        self.files: dict[str, Any] = {}
        for service, folder in folders.items():
            if not folder.is_dir():
                sys.exit(f"oas_extract: no Zoho OpenAPI folder at {folder}")
            for path in sorted(folder.glob("*.json")):
                self.files[f"{service}/{path.name}"] = json.loads(path.read_text())
        self.schemas: dict[str, Any] = {}

    def key(self, ref: str, file: str) -> str:
        """'./Common.json#/x' or 'https://…/v8.0/common.json#/x' -> 'desk/Common.json#/x'."""
        target, _, pointer = ref.partition("#")
        name = f"{file.split('/')[0]}/{target.rsplit('/', 1)[-1]}" if target else file
        return f"{name}#{pointer}"

    def lookup(self, key: str) -> Any:
        file, _, pointer = key.partition("#")
        node = self.files[file]
        for part in pointer.strip("/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def copy(self, node: Any, file: str) -> Any:
        """The node without prose, its $refs rewritten to keys and their targets collected."""
        if isinstance(node, list):
            return [self.copy(item, file) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            key = self.key(node["$ref"], file)
            if key not in self.schemas:
                self.schemas[key] = None  # placeholder: recursive schemas terminate
                self.schemas[key] = self.copy(self.lookup(key), key.partition("#")[0])
            return {"$ref": key}
        copied = {k: self.copy(v, file) for k, v in node.items() if k not in DROP}
        if isinstance(node.get("discriminator"), dict) and "mapping" in node["discriminator"]:
            copied["discriminator"]["mapping"] = {
                name: self.copy({"$ref": ref}, file)["$ref"]
                for name, ref in node["discriminator"]["mapping"].items()}
        return copied

    def find(self, service: str, method: str, template: str) -> tuple[str, Any]:
        for file, spec in self.files.items():
            if file.startswith(service + "/"):
                op = spec.get("paths", {}).get(template, {}).get(method.lower())
                if op is not None:
                    return file, op
        sys.exit(f"oas_extract: {method} {template} is in no {service} file")

    def operation(self, service: str, method: str, template: str) -> dict[str, Any]:
        file, op = self.find(service, method, template)
        path_item = self.files[file]["paths"][template]
        params = path_item.get("parameters", []) + op.get("parameters", [])
        return {"service": service, "file": file, "operationId": op.get("operationId"),
                "parameters": [self.copy(p, file) for p in params],
                "requestBody": self.copy(op["requestBody"], file) if "requestBody" in op
                else None,
                "responses": {status: self.copy(r, file)
                              for status, r in sorted(op.get("responses", {}).items())}}


def main(argv: list[str]) -> None:
    out = OUT
    if "--out" in argv:
        at = argv.index("--out")
        if at + 1 >= len(argv):
            sys.exit(USAGE)
        out = Path(argv[at + 1])
        argv = argv[:at] + argv[at + 2:]
    if len(argv) != 2:
        sys.exit(USAGE)
    desk, crm = Path(argv[0]), Path(argv[1])
    extractor = Extractor({"desk": desk, "crm": crm})
    operations = {f"{m} {t}": extractor.operation(s, m, t) for s, m, t in OPERATIONS}
    for key, op in SUPPLEMENT["operations"].items():
        operations[key] = op
    for key, (fields, source) in REQUIRED_BODY.items():
        operations[key]["requiredBody"] = {"fields": fields, "source": source}
    schemas = {**extractor.schemas, **SUPPLEMENT["schemas"]}
    for key, pointer, props, source in SUPPLEMENT["additions"]:
        node = schemas[key]
        for part in pointer.strip("/").split("/"):
            node = node[int(part)] if isinstance(node, list) else node[part]
        node.update(props)
        schemas[key].setdefault("x-deskctl-additions", []).append(source)
    dangling = sorted({ref for ref in re.findall(r'"\$ref": "([^"]+)"',
                                                 json.dumps([operations, schemas]))
                       if ref not in schemas})
    if dangling:
        sys.exit(f"oas_extract: unresolved references {dangling}")
    extract = {
        "about": "Facts from Zoho's OpenAPI files, made by scripts/oas_extract.py; do not "
                 "edit by hand. Operations with a 'source' key come from "
                 "scripts/oas_supplement.py.",
        "sources": SOURCES,
        "operations": dict(sorted(operations.items(), key=lambda kv: kv[0].split(" ", 1)[::-1])),
        "schemas": dict(sorted(schemas.items())),
    }
    # one line per operation and per schema: small, and a rerun's diff reads line by line
    lines = [json.dumps({k: v for k, v in extract.items() if k not in ("operations", "schemas")},
                        indent=1)[:-2] + ","]
    for section in ("operations", "schemas"):
        body = ",\n".join(f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}"
                          for k, v in extract[section].items())
        lines.append(f' "{section}": {{\n{body}\n }}' + ("," if section == "operations" else ""))
    out.write_text("\n".join(lines) + "\n}\n")
    print(f"{out}: {len(operations)} operations, {len(schemas)} schemas, "
          f"{out.stat().st_size:,} bytes")


if __name__ == "__main__":
    main(sys.argv[1:])
