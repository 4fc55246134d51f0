"""The emulator's read endpoints, answered in the shapes and within the limits Zoho documents:
CRM COQL (`POST /crm/v8/coql`) and the deleted-records feed, Desk searches and the recycle
bin. Each function returns (HTTP status, JSON body or None) or raises a deskctl
error that the emulator turns into Zoho's error answer."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from deskctl import clock
from deskctl.errors import ValidationError
from deskctl.models.records import Record, Tombstone, instant

Answer = tuple[int, Any]


@dataclasses.dataclass
class Reply:
    """One answer of the emulator: HTTP status, JSON body (None: no body) and headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)

    def encoded(self) -> bytes:
        return b"" if self.body is None else json.dumps(self.body).encode()

# COQL-Overview / COQL-Limitations (zoho.com/crm/developer/docs/api/v8/): at most 50 SELECT
# columns, 2,000 records per query, 100,000 through LIMIT and OFFSET
COQL_COLUMNS, COQL_LIMIT, COQL_REACH = 50, 2000, 100_000
DELETED_REACH = 2000  # the deleted feed pages with `page` only (crm-api.md §4.2)
RECYCLE_DAYS, RECYCLE_LIMIT = 60, 100  # Desk recycle bin: 60 days; `limit` up to 100
SEARCH_MAX_FROM = 4999  # desk-api.md §4.4: `from` beyond 0-4999 is refused with 422
def desk_time(iso: str) -> str:
    """Our ISO time in Desk's format, with milliseconds: '...T10:00:00.000Z'."""
    return iso.replace("Z", ".000Z") if iso else iso


def _desk_range(value: str) -> tuple[datetime, datetime]:
    try:
        low, high = (instant(v) for v in value.split(","))
    except ValueError:
        raise ValidationError(f"invalid time range {value!r}") from None
    return low, high


def desk_search(records: list[Record], query: dict[str, str],
                shape: Callable[[Record], dict[str, Any]]) -> Answer:
    """`GET /{kind}/search`: filters ANDed; `modifiedTimeRange` compares instants (both
    bounds inclusive); `sortBy=modifiedTime` keeps the write order among equal times;
    `count` is every match, `data` one window of them; `from` 0-based up to 4999."""
    matches = records
    for name, value in query.items():
        if name == "modifiedTimeRange":
            low, high = _desk_range(value)
            matches = [r for r in matches if low <= instant(r.modified_time) <= high]
        elif name == "_all":
            matches = [r for r in matches if any(value.lower() in str(v).lower()
                                                 for v in r.data.values())]
        elif name not in ("from", "limit", "sortBy"):
            matches = [r for r in matches if str(r.data.get(name, "")).lower() ==
                       value.lower()]
    if query.get("sortBy", "").startswith("-"):
        matches = list(reversed(matches))
    start, limit = int(query.get("from", 0)), int(query.get("limit", 10))
    if start > SEARCH_MAX_FROM:
        raise ValidationError("The value passed for field 'from' exceeds the range of "
                              "'0-4999'.")
    chunk = matches[start:start + limit]
    if not chunk:
        return 204, None
    return 200, {"data": [shape(r) for r in chunk], "count": len(matches)}


def desk_window(query: dict[str, str],
                window: Callable[[str, str, int, int], tuple[int, list[Record]]],
                shape: Callable[[Record], dict[str, Any]]) -> Answer | None:
    """The search the sync reads with (`modifiedTimeRange` only, sorted by modifiedTime):
    desk_search's very answer, from ``window`` (first and last whole second, offset,
    limit -> every match's count and that page), not from every record. None for any
    other search."""
    if set(query) - {"modifiedTimeRange", "sortBy", "from", "limit"} or \
            query.get("sortBy") != "modifiedTime" or "modifiedTimeRange" not in query:
        return None
    low, high = _desk_range(query["modifiedTimeRange"])
    start, limit = int(query.get("from", 0)), int(query.get("limit", 10))
    if start > SEARCH_MAX_FROM:
        raise ValidationError("The value passed for field 'from' exceeds the range of "
                              "'0-4999'.")
    # the sandbox keeps whole seconds: an instant is in [low, high] when its second is
    # in [low rounded up, high rounded down]
    first = low.replace(microsecond=0) + timedelta(seconds=1 if low.microsecond else 0)
    count, chunk = window(clock.iso(first), clock.iso(high.replace(microsecond=0)), start,
                          limit)
    if not chunk:
        return 204, None
    return 200, {"data": [shape(r) for r in chunk], "count": count}


def recycle_bin(stones: dict[str, list[Tombstone]], query: dict[str, str]) -> Answer:
    """`GET /recycleBin` (Desk "List deleted resources"): entries of the last 60 days,
    `module` filter, `sortBy` deletedTime ascending by default (`-` descending), `from`
    1-based, `limit` up to 100."""
    limit = int(query.get("limit", 10))
    if not 1 <= limit <= RECYCLE_LIMIT:
        raise ValidationError(f"limit must be between 1 and {RECYCLE_LIMIT}")
    oldest = clock.iso(clock.now() - timedelta(days=RECYCLE_DAYS))
    module = query.get("module")
    rows = [(s, kind) for kind, kind_stones in stones.items() if module in (None, kind)
            for s in kind_stones if s.deleted_time >= oldest]
    rows.sort(key=lambda row: row[0].deleted_time,
              reverse=query.get("sortBy", "") == "-deletedTime")
    start = int(query.get("from", 1))
    chunk = rows[max(start - 1, 0):][:limit]
    if not chunk:
        return 204, None
    return 200, {"data": [{"id": s.id, "type": kind.capitalize(),
                           "deletedTime": desk_time(s.deleted_time), "displayName": None,
                           "departmentId": None, "deletedById": None}
                          for s, kind in chunk]}


def crm_deleted(stones: list[Tombstone], query: dict[str, str]) -> Answer:
    """`GET /{module}/deleted`: oldest first, `page`/`per_page` only, 2,000 records at most
    (no page_token; getDeletedRecords in crm-oas record.json)."""
    per_page = min(int(query.get("per_page", 200)), 200)
    page = int(query.get("page", 1))
    if "page_token" in query or page * per_page > DELETED_REACH:
        raise ValidationError("DISCRETE_PAGINATION_LIMIT_EXCEEDED: the deleted records "
                              f"can be paged up to {DELETED_REACH} records")
    chunk = stones[(page - 1) * per_page:page * per_page]
    if not chunk:
        return 204, None
    return 200, {"data": [{"id": s.id, "deleted_time": s.deleted_time.replace("Z", "+00:00"),
                           "type": "recycle", "display_name": None, "deleted_by": None,
                           "created_by": None} for s in chunk],
                 "info": {"per_page": per_page, "count": len(chunk), "page": page,
                          "more_records": page * per_page < len(stones)}}


# COQL: the subset deskctl sends, parsed strictly (anything else is a SYNTAX_ERROR)

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:\\.|[^'\\])*')|(?P<op>>=|<=|!=|=|>|<)|(?P<par>[()])"
                    r"|(?P<word>[A-Za-z_][A-Za-z0-9_.$]*|\d+))")
_QUERY = re.compile(r"^\s*select\s+(?P<cols>.+?)\s+from\s+(?P<module>\w+)"
                    r"(?:\s+where\s+(?P<where>.+?))?(?:\s+order\s+by\s+(?P<order>.+?))?"
                    r"(?:\s+limit\s+(?P<limit>\d+)(?:\s+offset\s+(?P<offset>\d+))?)?\s*$",
                    re.IGNORECASE | re.DOTALL)
Row = dict[str, Any]


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    while pos < len(text.rstrip()):
        match = _TOKEN.match(text, pos)
        if not match:
            raise ValidationError(f"SYNTAX_ERROR: cannot read the query at {text[pos:]!r}")
        out.append(match.group(match.lastgroup or "word"))
        pos = match.end()
    return out


def _value(row: Row, field: str) -> Any:
    value = row.get(field)
    if isinstance(value, dict):
        value = value.get("id")
    if field == "id" or (isinstance(value, str) and value.isdigit() and len(value) > 12):
        return int(value) if value is not None else None
    if field.endswith("_Time") and value:
        return instant(str(value))
    return value


def _literal(field: str, token: str) -> Any:
    text = token[1:-1].replace("\\'", "'").replace("\\\\", "\\") if token.startswith("'") \
        else token
    if field == "id" or (text.isdigit() and len(text) > 12):
        return int(text)
    if field.endswith("_Time"):
        return instant(text)
    return text


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b, "!=": lambda a, b: a != b,
    ">": lambda a, b: a is not None and a > b, "<": lambda a, b: a is not None and a < b,
    ">=": lambda a, b: a is not None and a >= b, "<=": lambda a, b: a is not None and a <= b}


def _condition(tokens: list[str], columns: set[str]) -> Callable[[Row], bool]:
    """Parenthesised comparisons joined by and/or, as COQL asks them to be written."""
    pos = 0

    def expr() -> Callable[[Row], bool]:
        nonlocal pos
        left = term()
        while pos < len(tokens) and tokens[pos].lower() in ("and", "or"):
            joiner, pos = tokens[pos].lower(), pos + 1
            right = term()
            left = (lambda a, b: lambda r: a(r) and b(r))(left, right) if joiner == "and" \
                else (lambda a, b: lambda r: a(r) or b(r))(left, right)
        return left

    def term() -> Callable[[Row], bool]:
        nonlocal pos
        if tokens[pos] == "(":
            pos += 1
            inner = expr()
            if pos >= len(tokens) or tokens[pos] != ")":
                raise ValidationError("SYNTAX_ERROR: unbalanced parentheses")
            pos += 1
            return inner
        field = tokens[pos]
        if field not in columns:
            raise ValidationError(f"INVALID_QUERY: unknown field {field!r} in the criteria")
        rest = [t.lower() for t in tokens[pos + 1:pos + 4]]
        if rest[:3] == ["is", "not", "null"]:
            pos += 4
            return lambda r: _value(r, field) is not None
        if rest[:2] == ["is", "null"]:
            pos += 3
            return lambda r: _value(r, field) is None
        op, literal = tokens[pos + 1], tokens[pos + 2]
        if op not in _OPS:
            raise ValidationError(f"SYNTAX_ERROR: unsupported comparator {op!r}")
        pos += 3
        wanted = _literal(field, literal)
        return lambda r: _OPS[op](_value(r, field), wanted)

    try:
        test = expr()
    except IndexError:
        raise ValidationError("SYNTAX_ERROR: the criteria end too early") from None
    if pos != len(tokens):
        raise ValidationError(f"SYNTAX_ERROR: unexpected {tokens[pos]!r}")
    return test


def _modified_floor(tokens: list[str]) -> datetime | None:
    """The earliest Modified_Time the (already checked) criteria let through, if they
    bound it: what the sandbox needs to read at all, never a filter of its own."""
    pos = 0

    def expr() -> datetime | None:
        nonlocal pos
        left = term()
        while pos < len(tokens) and tokens[pos].lower() in ("and", "or"):
            joiner, pos = tokens[pos].lower(), pos + 1
            right = term()
            if joiner == "and":
                left = right if left is None else left if right is None else max(left, right)
            else:
                left = None if left is None or right is None else min(left, right)
        return left

    def term() -> datetime | None:
        nonlocal pos
        if tokens[pos] == "(":
            pos += 1
            inner = expr()
            pos += 1
            return inner
        field, rest = tokens[pos], [t.lower() for t in tokens[pos + 1:pos + 4]]
        if rest[:3] == ["is", "not", "null"] or rest[:2] == ["is", "null"]:
            pos += 4 if rest[1] == "not" else 3
            return None
        op, literal = tokens[pos + 1], tokens[pos + 2]
        pos += 3
        bound = _literal(field, literal) if field == "Modified_Time" and \
            op in (">", ">=", "=") else None
        return bound if isinstance(bound, datetime) else None

    return expr()


def coql(query: str, rows_of: Callable[[str, str | None], Iterable[Row]],
         columns_of: Callable[[str], set[str]]) -> Answer:
    """`POST /crm/v8/coql` with `select_query`: SELECT up to 50 columns FROM a module,
    WHERE with and/or, ORDER BY fields asc|desc (default: by id), LIMIT up to 2,000 and
    OFFSET, 100,000 records at most through them; answer `data` + `info` {count,
    more_records}, 204 when nothing matches."""
    match = _QUERY.match(query or "")
    if not match:
        raise ValidationError("SYNTAX_ERROR: expected select ... from ... [where ...] "
                              "[order by ...] [limit ...]")
    module = match["module"]
    known = columns_of(module) | {"id", "Created_Time", "Modified_Time"}
    selected = [c.strip() for c in match["cols"].split(",")]
    if len(selected) > COQL_COLUMNS:
        raise ValidationError(f"LIMIT_EXCEEDED: at most {COQL_COLUMNS} columns")
    unknown = [c for c in selected if c not in known]
    if unknown:
        raise ValidationError(f"INVALID_QUERY: unknown field {unknown[0]!r}")
    tokens = _tokens(match["where"]) if match["where"] else []
    test = _condition(tokens, known) if tokens else bool
    floor = _modified_floor(tokens) if tokens else None
    order = [("id", False)]
    if match["order"]:
        order = []
        for part in match["order"].split(","):
            words = part.split()
            if not words or words[0] not in known or len(words) > 2 or \
                    (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
                raise ValidationError(f"SYNTAX_ERROR: bad order by {part.strip()!r}")
            order.append((words[0], len(words) == 2 and words[1].lower() == "desc"))
    limit, offset = int(match["limit"] or 200), int(match["offset"] or 0)
    # the sandbox reads records oldest modification first (whole seconds): in that order
    # the query needs them only up to the second holding the row after its window
    since = clock.iso(floor.replace(microsecond=0)) if floor else None
    streamed = order in ([("Modified_Time", False)], [("Modified_Time", False), ("id", False)])
    rows: list[Row] = []
    second = None
    for row in rows_of(module, since):
        if streamed and len(rows) > offset + limit and row.get("Modified_Time") != second:
            break
        second = row.get("Modified_Time")
        if test(row):
            rows.append(row)
    for field, descending in reversed(order):
        def key(row: Row, field: str = field) -> tuple[bool, Any]:
            value = _value(row, field)
            return value is not None, value
        rows.sort(key=key, reverse=descending)
    if limit > COQL_LIMIT or offset + limit > COQL_REACH:
        raise ValidationError(f"LIMIT_EXCEEDED: at most {COQL_LIMIT} records per query and "
                              f"{COQL_REACH} through LIMIT and OFFSET")
    chunk = rows[offset:offset + limit]
    if not chunk:
        return 204, None
    keep = set(selected) | {"id"}
    return 200, {"data": [{k: v for k, v in r.items() if k in keep} for r in chunk],
                 "info": {"count": len(chunk), "more_records": offset + limit < len(rows)}}
