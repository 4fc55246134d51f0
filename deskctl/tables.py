"""Which columns each table shows, in which order, and which give way first when the
terminal is narrow; and the pure fitting of a table into a width (no I/O, no click).

Every table's column choice lives here (commands name their table); a table without an entry
keeps its data's own column order, the leftmost columns being the most important.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

GAP = 2  # tabulate's "simple" and "plain" formats put two spaces between columns
HEADER_PAD = 2  # and make a column at least two wider than its header (MIN_PADDING)
SHORTEST = 12  # a shortened column keeps at least this many characters (or its header);
# identifiers (ids, emails, times) are never shortened: a column of them is shown or left out
ELLIPSIS = "…"


@dataclass(frozen=True)
class Column:
    key: str
    priority: int = 1  # 1: a key column, kept longest; higher numbers give way first
    # free text that may be shortened with an ellipsis; None: if its cells hold spaces (prose,
    # not an id, email, key or path)
    shrink: bool | None = False


def _c(key: str, priority: int = 1, shrink: bool = False) -> Column:
    return Column(key, priority, shrink)


TABLES: dict[str, tuple[Column, ...]] = {
    "ticket list": (_c("id"), _c("number", 3), _c("subject", 1, True), _c("status", 2),
                    _c("priority", 2), _c("due", 4), _c("owner", 5),
                    _c("contact", 6, True), _c("deal", 7, True)),
    "ticket history": (_c("time"), _c("event", 3), _c("by", 4), _c("field"),
                       _c("old", 5, True), _c("new", 2, True)),
    "audit": (_c("at"), _c("actor", 3), _c("action"), _c("target", 2, True),
              _c("details", 4, True)),
    "sync errors": (_c("module", 3), _c("side", 3), _c("record_id"), _c("message", 1, True),
                    _c("attempts", 5), _c("last_seen", 4)),
    "sync conflicts": (_c("id"), _c("module", 2), _c("crm_id", 3), _c("desk_id", 3),
                       _c("crm", 4, True), _c("desk", 4, True)),
    "sync plan": (_c("module", 2), _c("action"), _c("side"), _c("crm_id", 3),
                  _c("desk_id", 3), _c("reason", 4, True)),
    "plan": (_c("item", 1, True), _c("action"), _c("from", 3, True), _c("to", 2, True),
             _c("refused", 1, True)),
    "apply": (_c("item", 1, True), _c("action"), _c("to", 3, True), _c("outcome"),
              _c("detail", 2, True)),
    "sandbox outbox": (_c("id", 3), _c("sent", 4), _c("to", 1, True),
                       _c("subject", 2, True)),
    "sandbox tickets": (_c("id"), _c("ticketNumber", 3), _c("subject", 1, True),
                        _c("status", 2), _c("priority", 2), _c("dueDate", 4),
                        _c("contactId", 5), _c("assigneeId", 6)),
}


#: tables of records with any fields: the registered columns first, then every other field
OPEN_ENDED = {"sandbox tickets"}


def columns_for(table: str | Sequence[str] | None, keys: Sequence[str]) -> list[Column]:
    """The columns to show, given the data's own ``keys``: a registered table's choice, or
    the keys given or found, the leftmost the most important."""
    chosen = list(TABLES[table]) if isinstance(table, str) else []
    if isinstance(table, str) and table not in OPEN_ENDED:
        return chosen
    named = {c.key for c in chosen}
    start = max((c.priority for c in chosen), default=0)
    rest = [k for k in (keys if table is None or isinstance(table, str) else table)
            if k not in named]
    return chosen + [Column(k, start + i + 1, shrink=None) for i, k in enumerate(rest)]


@dataclass(frozen=True)
class Fitted:
    columns: list[int]  # indexes of the columns kept, in display order
    widths: list[int]  # their widths
    hidden: list[int]  # indexes of the columns left out, most important first


def fit(headers: Sequence[str], rows: Sequence[Sequence[str]], spec: Sequence[Column],
        width: int) -> Fitted:
    """Choose columns and widths so the table is at most ``width`` characters wide: shorten
    shrinkable columns toward SHORTEST, then leave out the least important columns, then
    hand the room left back to the shortened ones."""
    count = len(headers)
    shrinks = [spec[i].shrink if spec[i].shrink is not None
               else any(" " in r[i] for r in rows) for i in range(count)]
    natural = [max([len(headers[i]) + HEADER_PAD] + [len(r[i]) for r in rows])
               for i in range(count)]
    least = [min(natural[i], max(len(headers[i]) + HEADER_PAD, SHORTEST)) if shrinks[i]
             else natural[i]
             for i in range(count)]
    kept = list(range(count))

    def needed(columns: list[int]) -> int:
        return sum(least[i] for i in columns) + GAP * (len(columns) - 1)

    while len(kept) > 1 and needed(kept) > width:
        # the least important column goes; among equals, the rightmost
        kept.remove(max(kept, key=lambda i: (spec[i].priority, i)))
    widths = {i: least[i] for i in kept}
    spare = width - needed(kept)
    if spare < 0:  # one column, wider than the whole width even shortened
        widths[kept[0]] = max(1, width)
        spare = 0
    while spare > 0:
        growing = [i for i in kept if widths[i] < natural[i]]
        if not growing:
            break
        share = max(1, spare // len(growing))
        for i in growing:
            add = min(share, natural[i] - widths[i], spare)
            widths[i] += add
            spare -= add
    hidden = sorted(set(range(count)) - set(kept), key=lambda i: (spec[i].priority, i))
    return Fitted(kept, [widths[i] for i in kept], hidden)


def shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[:max(0, width - 1)] + ELLIPSIS
