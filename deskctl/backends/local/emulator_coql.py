"""The emulator's CRM COQL (`POST /crm/v8/coql`): the subset deskctl sends, parsed strictly
(anything else is a SYNTAX_ERROR), answered in Zoho's shape and within Zoho's limits.

The sandbox is a model of Zoho: the time it spends answering is a benchmark artifact, so a
query ordered by (Modified_Time, id), the keyset pages the zoho backend reads with, is
answered from the sandbox in that order from the first (time, id) its criteria let
through, and the reading stops once the page and the row after it are found: a page costs
what it holds, not every record of the same second. Every row is still tested against the
whole criteria, so the fast path only changes what is read, never the answer."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from deskctl import clock
from deskctl.errors import ValidationError
from deskctl.models.records import instant

Answer = tuple[int, Any]
Row = dict[str, Any]

# COQL-Overview / COQL-Limitations (zoho.com/crm/developer/docs/api/v8/): at most 50 SELECT
# columns, 2,000 records per query, 100,000 through LIMIT and OFFSET
COQL_COLUMNS, COQL_LIMIT, COQL_REACH = 50, 2000, 100_000
#: the range of the sandbox's numeric id comparison (SQLite integers; Zoho's record ids are
#: 19-digit longs, e.g. 5725767000007908001 in crm-api.md §7)
ID_MIN, ID_MAX = -(2 ** 63), 2 ** 63 - 1
#: COQL's own order for keyset pages: `order by Modified_Time asc, id asc`
KEYSET_ORDER = [("Modified_Time", False), ("id", False)]


@dataclasses.dataclass(frozen=True)
class Scan:
    """The records a query needs read, oldest modification first, from the whole second
    `since` (None: from the first). `by_id`: in (Modified_Time, numeric id) order, starting
    after the id `after` within `since` (None: its first record); otherwise in the order
    they were written (a second's records together). `page`: how many to read at a time."""

    since: str | None = None
    by_id: bool = False
    after: int | None = None
    page: int = 500


_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:\\.|[^'\\])*')|(?P<op>>=|<=|!=|=|>|<)|(?P<par>[()])"
                    r"|(?P<word>[A-Za-z_][A-Za-z0-9_.$]*|\d+))")
_QUERY = re.compile(r"^\s*select\s+(?P<cols>.+?)\s+from\s+(?P<module>\w+)"
                    r"(?:\s+where\s+(?P<where>.+?))?(?:\s+order\s+by\s+(?P<order>.+?))?"
                    r"(?:\s+limit\s+(?P<limit>\d+)(?:\s+offset\s+(?P<offset>\d+))?)?\s*$",
                    re.IGNORECASE | re.DOTALL)


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
    try:
        if field == "id" or (text.isdigit() and len(text) > 12):
            return int(text)
        if field.endswith("_Time"):
            return instant(text)
    except ValueError:
        raise ValidationError(f"INVALID_QUERY: {token} is not a value of {field}") from None
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


Key = tuple[datetime, float]  # (Modified_Time, id), id -inf/+inf: before/after a second's ids


@dataclasses.dataclass(frozen=True)
class _Bound:
    """What criteria imply about (Modified_Time, id): every row they let through has
    (Modified_Time, id) >= `low` in COQL's order, Modified_Time == `time`, id >= `first`
    (None: nothing known)."""

    low: Key | None = None
    time: datetime | None = None
    first: int | None = None

    def both(self, other: _Bound) -> _Bound:
        time = self.time or other.time
        firsts = [f for f in (self.first, other.first) if f is not None]
        first = max(firsts) if firsts else None
        lows = [k for k in (self.low, other.low) if k is not None]
        if time is not None and first is not None:  # Modified_Time = T and id >= I
            lows.append((time, first))
        return _Bound(max(lows) if lows else None, time, first)

    def either(self, other: _Bound) -> _Bound:
        return _Bound(None if self.low is None or other.low is None else min(self.low, other.low),
                      self.time if self.time == other.time else None,
                      None if self.first is None or other.first is None
                      else min(self.first, other.first))


def _floor(tokens: list[str]) -> _Bound:
    """The lowest (Modified_Time, id) the (already checked) criteria let through, as far as
    they bound it: where the sandbox starts reading, never a filter of its own."""
    pos = 0

    def expr() -> _Bound:
        nonlocal pos
        left = term()
        while pos < len(tokens) and tokens[pos].lower() in ("and", "or"):
            joiner, pos = tokens[pos].lower(), pos + 1
            right = term()
            left = left.both(right) if joiner == "and" else left.either(right)
        return left

    def term() -> _Bound:
        nonlocal pos
        if tokens[pos] == "(":
            pos += 1
            inner = expr()
            pos += 1
            return inner
        field, rest = tokens[pos], [t.lower() for t in tokens[pos + 1:pos + 4]]
        if rest[:3] == ["is", "not", "null"] or rest[:2] == ["is", "null"]:
            pos += 4 if rest[1] == "not" else 3
            return _Bound()
        op, value = tokens[pos + 1], _literal(field, tokens[pos + 2])
        pos += 3
        if field == "Modified_Time" and isinstance(value, datetime) and op in (">", ">=", "="):
            return _Bound((value, float("inf") if op == ">" else float("-inf")),
                          value if op == "=" else None)
        if field == "id" and isinstance(value, int) and op in (">", ">=", "="):
            return _Bound(first=value + 1 if op == ">" else value)
        return _Bound()

    return expr()


def _scan(low: Key | None, by_id: bool, page: int) -> Scan:
    """Where to start reading for a lower bound on (Modified_Time, id): the sandbox keeps
    whole seconds (UTC), so a bound within a second starts at that second."""
    if low is None:
        return Scan(None, by_id, None, page)
    time, first = low
    second = time.replace(microsecond=0)
    if not by_id or time != second or first == float("-inf"):
        return Scan(clock.iso_second(second), by_id, None, page)
    if first == float("inf") or first > ID_MAX:
        return Scan(clock.iso_second(second + timedelta(seconds=1)), by_id, None, page)
    after = int(first) - 1
    return Scan(clock.iso_second(second), by_id, after if after >= ID_MIN else None, page)


def _order(text: str | None, known: set[str]) -> list[tuple[str, bool]]:
    if not text:
        return [("id", False)]
    order = []
    for part in text.split(","):
        words = part.split()
        if not words or words[0] not in known or len(words) > 2 or \
                (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise ValidationError(f"SYNTAX_ERROR: bad order by {part.strip()!r}")
        order.append((words[0], len(words) == 2 and words[1].lower() == "desc"))
    return order


def coql(query: str, rows_of: Callable[[str, Scan], Iterable[Row]],
         columns_of: Callable[[str], set[str]]) -> Answer:
    """`POST /crm/v8/coql` with `select_query`: SELECT up to 50 columns FROM a module,
    WHERE with and/or, ORDER BY fields asc|desc (default: by id), LIMIT up to 2,000 and
    OFFSET, 100,000 records at most through them; answer `data` + `info` {count,
    more_records}, 204 when nothing matches (crm-api.md §8.2; crm-oas coql.json)."""
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
    order = _order(match["order"], known)
    limit, offset = int(match["limit"] or 200), int(match["offset"] or 0)
    if limit > COQL_LIMIT or offset + limit > COQL_REACH:
        raise ValidationError(f"LIMIT_EXCEEDED: at most {COQL_LIMIT} records per query and "
                              f"{COQL_REACH} through LIMIT and OFFSET")
    wanted = offset + limit + 1  # the window and the row that says more_records
    by_id = order == KEYSET_ORDER
    scan = _scan(_floor(tokens).low if tokens else None, by_id, min(wanted, 1000))
    # written order keeps a second's records together: in it, the query needs them only
    # up to the second holding the row after its window
    streamed = order == [("Modified_Time", False)]
    rows: list[Row] = []
    second = None
    for row in rows_of(module, scan):
        if streamed and len(rows) >= wanted and row.get("Modified_Time") != second:
            break
        second = row.get("Modified_Time")
        if test(row):
            rows.append(row)
            if by_id and len(rows) >= wanted:  # read in the asked order: nothing to sort
                break
    for field, descending in [] if by_id else reversed(order):
        def key(row: Row, field: str = field) -> tuple[bool, Any]:
            value = _value(row, field)
            return value is not None, value
        rows.sort(key=key, reverse=descending)
    chunk = rows[offset:offset + limit]
    if not chunk:
        return 204, None
    keep = set(selected) | {"id"}
    return 200, {"data": [{k: v for k, v in r.items() if k in keep} for r in chunk],
                 "info": {"count": len(chunk), "more_records": offset + limit < len(rows)}}
