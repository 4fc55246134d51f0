"""Zoho operations whose OpenAPI file is not in the copies `make oas` reads, written in the
extract's form by hand. Each names its source: the upstream file (repository and commit,
transcribed with prose and patterns left out) or, where Zoho publishes no OpenAPI file, the
documentation page; schemas the documentation leaves open stay open (additionalProperties
not false), so the checks never claim more than Zoho wrote."""

from __future__ import annotations

from typing import Any

DESK_OAS = "https://github.com/zoho/zohodesk-oas/blob/83b5c18947ef54052eb83d221ff54c2ee5a65e52"
ORG_ID = {"$ref": "desk/Common.json#/components/parameters/orgId"}
EMPTY = {"$ref": "desk/Common.json#/components/responses/emptyResponse"}
UNPROCESSABLE = {"$ref": "desk/Common.json#/components/responses/multipleUnprocessEntityResponse"}
ID = {"type": ["string", "null", "integer"], "format": "int64"}
TEXT = {"type": ["string", "null"]}
BOOL = {"type": ["boolean", "null"]}


def _query(name: str, schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema}


def _enum(*values: str) -> dict[str, Any]:
    return {**TEXT, "enum": list(values)}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _list_of(ref: str) -> dict[str, Any]:
    return _json({"type": ["object", "null"], "additionalProperties": False,
                  "properties": {"data": {"type": ["array", "null"], "items": {"$ref": ref}}},
                  "required": ["data"]})


_FROM_LIMIT = [_query("from", {"type": ["string", "null", "integer"], "format": "int32"}),
               _query("limit", {"type": ["string", "null", "integer"], "format": "int32"})]

_AUTHOR = {"type": ["null", "object"], "additionalProperties": False, "properties": {
    "photoURL": {**TEXT, "maxLength": 200}, "firstName": {**TEXT, "maxLength": 50},
    "lastName": {**TEXT, "maxLength": 50}, "id": ID, "email": {**TEXT, "maxLength": 100}},
    "required": ["email", "firstName", "id", "lastName", "photoURL"]}

SCHEMAS: dict[str, Any] = {
    # v1.0/MailReplyAddress.json (DESK_OAS): components/schemas/secondListViewJson
    "supplement/MailReplyAddress.json#/components/schemas/secondListViewJson": {
        "type": ["null", "object"], "additionalProperties": False, "properties": {
            "modifiedTime": {**TEXT, "maxLength": 100}, "address": {**TEXT, "maxLength": 100},
            "isSmtpEnabled": BOOL, "isVerified": BOOL,
            "displayName": {**TEXT, "maxLength": 100}, "departmentId": ID, "isActive": BOOL,
            "smtpDetails": {"type": ["null", "object"], "additionalProperties": False,
                            "properties": {"port": {"type": ["string", "null", "integer"]},
                                           "host": {**TEXT, "maxLength": 100},
                                           "userName": {**TEXT, "maxLength": 100},
                                           "connectionType": {
                                               **TEXT, "enum": ["PLAIN", "SSL", "TLS"]}}},
            "createdBy": _AUTHOR, "createdTime": {**TEXT, "maxLength": 100},
            "modifiedBy": _AUTHOR, "id": ID, "serviceProviderType": {**TEXT, "maxLength": 100}},
        "required": ["address", "createdBy", "createdTime", "departmentId", "displayName", "id",
                     "isActive", "isVerified", "modifiedBy", "modifiedTime",
                     "serviceProviderType", "smtpDetails"]},
    # v1.0/Field.json (DESK_OAS): the union of the per-type field responses of getFields
    # (commonFieldResponse, *ForTickets' showToHelpCenter, statusFieldResponse's and
    # pickListFieldResponse's allowedValues, decimal/currency/boolean extras, lookups)
    "supplement/Field.json#/components/schemas/field": {
        "type": ["object", "null"], "additionalProperties": False, "properties": {
            "displayLabel": {**TEXT, "maxLength": 200}, "apiName": {**TEXT, "maxLength": 100},
            "isCustomField": BOOL, "i18NLabel": {**TEXT, "maxLength": 100},
            "name": {**TEXT, "maxLength": 100}, "isEncryptedField": BOOL, "id": ID,
            "isTrackLastActivityTime": BOOL,
            "type": {**TEXT, "enum": ["Text", "URL", "Textarea", "Email", "Phone",
                                      "Multiselect", "Date", "DateTime", "Number", "Checkbox",
                                      "Percent", "Decimal", "Currency", "Picklist", "LookUp",
                                      "Lookup", "AutoNumber", "Boolean", "Fax", "LargeText"]},
            "isMandatory": BOOL,
            "maxLength": {"type": ["string", "null", "integer"], "format": "int32",
                          "minimum": 1},
            "showToHelpCenter": BOOL,
            "allowedValues": {"type": ["null", "array"], "items": {
                "type": ["null", "object"], "additionalProperties": False,
                "properties": {"value": {**TEXT, "maxLength": 120},
                               "statusType": {**TEXT, "maxLength": 100}},
                "required": ["value"]}},
            "decimalPlaces": {"type": ["string", "null", "integer"], "maximum": 9,
                              "minimum": 0},
            "roundingOption": _enum("roundOff", "roundDown", "roundUp", "normal"),
            "defaultValue": TEXT,
            "lookup": {"type": ["null", "object"]},
            "lookupProperties": {"type": ["null", "object"]},
            "properties": {"type": ["null", "object"]}},
        "required": ["apiName", "displayLabel", "i18NLabel", "id", "isCustomField",
                     "isEncryptedField", "isMandatory", "isTrackLastActivityTime",
                     "maxLength", "name", "type"]},
    # https://desk.zoho.com/DeskAPIDocument#TicketsHistory and the help article "Get Ticket
    # History API explained": the keys of an event; their values are not specified
    "supplement/TicketHistory#/event": {
        "type": "object", "properties": {
            "eventName": TEXT, "eventTime": TEXT, "actor": {"type": ["object", "null"]},
            "source": TEXT, "eventInfo": {"type": ["array", "null"]}},
        "required": ["eventName", "eventTime"]},
    # https://desk.zoho.com/DeskAPIDocument#CustomerHappiness
    "supplement/CustomerHappiness#/rating": {
        "type": "object", "properties": {
            "id": ID, "rating": _enum("GOOD", "OK", "BAD", "good", "ok", "bad"),
            "ratedTime": TEXT, "feedback": TEXT, "ticketId": ID, "contactId": ID,
            "agentId": ID, "departmentId": ID},
        "required": ["id", "rating", "ratedTime"]},
    # https://desk.zoho.com/DeskAPIDocument#RecycleBin "List deleted resources" (sample
    # answer in the official Postman collection, mirrored at developers.qodex.ai/zoho-desk/
    # zoho-desk-api/recycle-bin/list-deleted-resources)
    "supplement/RecycleBin#/entity": {
        "type": "object", "properties": {
            "id": ID, "displayName": TEXT, "departmentId": ID, "deletedById": ID,
            "type": TEXT, "deletedTime": TEXT},
        "required": ["id", "type", "deletedTime"]},
}

def _desk_get(file: str, source: str, operation_id: str, parameters: list[dict[str, Any]],
              responses: dict[str, Any]) -> dict[str, Any]:
    """A Desk GET operation (no request body) in the extract's form."""
    return {"service": "desk", "file": file, "source": source, "operationId": operation_id,
            "parameters": parameters, "requestBody": None, "responses": responses}


DESK_DOC = "https://desk.zoho.com/DeskAPIDocument"
OPERATIONS: dict[str, Any] = {
    "GET /api/v1/mailReplyAddress": _desk_get(
        "supplement/MailReplyAddress.json", f"{DESK_OAS}/v1.0/MailReplyAddress.json",
        "getReplyMailAddresses",
        [_query("departmentId", ID, True), *_FROM_LIMIT, _query("isActive", BOOL), ORG_ID],
        {"200": _list_of(
            "supplement/MailReplyAddress.json#/components/schemas/secondListViewJson"),
         "204": EMPTY, "422": UNPROCESSABLE}),
    "GET /api/v1/organizationFields": _desk_get(
        "supplement/Field.json", f"{DESK_OAS}/v1.0/Field.json", "getFields",
        [_query("module", _enum("tickets", "contacts", "accounts", "tasks", "calls", "events",
                                "contracts", "products"), True),
         _query("departmentId", ID), ORG_ID],
        {"200": _list_of("supplement/Field.json#/components/schemas/field"),
         "422": UNPROCESSABLE}),
    "GET /api/v1/tickets/{ticketId}/History": _desk_get(
        "supplement/TicketHistory", f"{DESK_DOC}#TicketsHistory", "getTicketHistory",
        [{"name": "ticketId", "in": "path", "required": True, "schema": ID}, *_FROM_LIMIT,
         _query("eventFilter", TEXT), _query("agentId", ID), _query("fieldName", TEXT),
         ORG_ID],
        {"200": _list_of("supplement/TicketHistory#/event"), "204": EMPTY}),
    "GET /api/v1/customerHappiness": _desk_get(
        "supplement/CustomerHappiness", f"{DESK_DOC}#CustomerHappiness",
        "getCustomerHappiness",
        [_query("department", TEXT, True), _query("agentId", ID), _query("contactId", ID),
         _query("accountId", ID), _query("ticketId", ID), _query("startTime", TEXT),
         _query("endTime", TEXT), *_FROM_LIMIT, _query("rating", _enum("good", "ok", "bad")),
         _query("duration", _enum(
             "TODAY", "THIS_WEEK", "LAST_WEEK", "THIS_MONTH", "LAST_MONTH", "LAST_7_DAYS",
             "YESTERDAY", "LAST_1_HOUR", "CUSTOM_IN_DATE", "LAST_100_RATINGS", "LAST24HOURS",
             "LAST_30_DAYS")),
         _query("startDate", TEXT), _query("endDate", TEXT),
         _query("sortBy", _enum("ratedTime", "-ratedTime")), _query("include", TEXT), ORG_ID],
        {"200": _list_of("supplement/CustomerHappiness#/rating"), "204": EMPTY}),
    "GET /api/v1/recycleBin": _desk_get(
        "supplement/RecycleBin", f"{DESK_DOC}#RecycleBin", "getRecycleBinEntities",
        [_query("module", _enum("accounts", "contacts", "tickets", "tasks", "timeEntry",
                                "calls", "events", "contracts", "products", "topics",
                                "solutions")),
         *_FROM_LIMIT, _query("departmentId", ID),
         _query("sortBy", _enum("name", "type", "department", "deletedBy", "deletedTime",
                                "-name", "-type", "-department", "-deletedBy",
                                "-deletedTime")),
         _query("include", TEXT), ORG_ID],
        {"200": _list_of("supplement/RecycleBin#/entity"), "204": EMPTY}),
}

# Properties Zoho documents for a request whose OpenAPI schema leaves them out: (schema key,
# JSON pointer inside it, properties to add, source).
ADDITIONS: list[tuple[str, str, dict[str, Any], str]] = [
    # Send Email Reply takes cc and bcc ("to, cc, bcc: comma-separated, EMAIL channel only",
    # ≤ 13000 characters like `to`); Thread.json at this commit lists them on threads only.
    ("desk/Thread.json#/components/schemas/emailThreadSendReply", "/allOf/1/properties",
     {"cc": {**TEXT, "maxLength": 13000}, "bcc": {**TEXT, "maxLength": 13000}},
     "https://desk.zoho.com/DeskAPIDocument#Threads_SendEmailReply"),
]

SUPPLEMENT = {"operations": OPERATIONS, "schemas": SCHEMAS, "additions": ADDITIONS}
