"""The emulator's COQL: keyset pages ordered by (Modified_Time, id) are read from where
their criteria start and stop after the page (a page costs what it holds, not its whole
second), with the very answers of the general evaluation, ties and all."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from deskctl.backends.local.emulator_coql import Scan, coql
from deskctl.backends.zoho import ZohoBackend
from deskctl.errors import ValidationError
from tests.zoho.conftest import FakeZoho

S1, S2, S3 = "2026-07-01T10:00:00Z", "2026-07-01T10:00:01Z", "2026-07-01T10:00:02Z"
SELECT = "select Last_Name, Modified_Time from Contacts"
KEYSET = "order by Modified_Time asc, id asc"
# the same order, which (Modified_Time, id) already makes total, evaluated the general way:
# every record from the floor second read, tested and sorted
GENERAL = "order by Modified_Time asc, id asc, Created_Time asc"


@pytest.fixture
def same_second(fake: FakeZoho, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Contacts sharing seconds, written in an order that is not their ids': in S2 the
    writes go new, updated (older, smaller ids), new; two imported ids compare differently
    as numbers and as text. Returns every contact as the emulator's rows, in COQL's order."""
    crm = fake.sandbox.crm
    monkeypatch.setenv("DESKCTL_NOW", S1)
    early = [r.id for r in crm.create_records("Contacts", [{"Last_Name": f"A{i}"}
                                                           for i in range(40)])]
    monkeypatch.setenv("DESKCTL_NOW", S2)
    crm.create_records("Contacts", [{"Last_Name": f"B{i}"} for i in range(230)])
    crm.update_records("Contacts", [(i, {"Last_Name": f"moved {i}"}) for i in early[::2]])
    crm.create_records("Contacts", [{"Last_Name": f"C{i}"} for i in range(230)])
    for imported in ("987654321", "99"):  # as text after every 57257670..., as numbers before
        fake.sandbox.db.insert("crm", "Contacts", {"Last_Name": f"I{imported}"}, imported)
    monkeypatch.setenv("DESKCTL_NOW", S3)
    crm.create_records("Contacts", [{"Last_Name": f"D{i}"} for i in range(5)])
    rows = list(fake.emulator._coql_rows("Contacts", Scan()))
    rows.sort(key=lambda r: (r["Modified_Time"], int(r["id"])))
    assert len(rows) == 507 and sum(r["Modified_Time"].startswith(S2[:19]) for r in rows) == 482
    return rows


def ask(fake: FakeZoho, query: str, read: list[int] | None = None) -> tuple[int, Any]:
    """The emulator's COQL answer (counting the rows it reads into ``read``)."""
    def rows_of(module: str, scan: Scan) -> Iterator[dict[str, Any]]:
        for row in fake.emulator._coql_rows(module, scan):
            if read is not None:
                read.append(1)
            yield row

    columns = {f.api_name for f in fake.sandbox.crm.module("Contacts").fields}
    return coql(query, rows_of, lambda _m: columns)


def after(row: dict[str, Any]) -> str:
    """The zoho backend's keyset criteria after a row (deskctl/backends/zoho/crm.py)."""
    when, last = row["Modified_Time"], row["id"]
    return f"((Modified_Time > '{when}') or ((Modified_Time = '{when}') and (id > '{last}')))"


def test_keyset_pages_match_the_general_evaluation(fake: FakeZoho,
                                                   same_second: list[dict[str, Any]]) -> None:
    """Page by page the client's way, through ties in a second of 482 records: the same
    data, count and more_records as the general evaluation, 204 after the last page, and
    no page reads more than the page and the row after it."""
    pages, where, seen = 0, "(id is not null)", []
    while True:
        read: list[int] = []
        fast = ask(fake, f"{SELECT} where {where} {KEYSET} limit 200", read)
        assert fast == ask(fake, f"{SELECT} where {where} {GENERAL} limit 200")
        if fast[0] == 204:
            break
        assert len(read) <= 201
        pages += 1
        seen += fast[1]["data"]
        assert fast[1]["info"]["more_records"] == (len(seen) < len(same_second))
        if not fast[1]["info"]["more_records"]:
            break
        where = after(seen[-1])
    assert pages == 3
    assert [r["id"] for r in seen] == [r["id"] for r in same_second]
    # S1 keeps the odd A's; S2 starts with the imported ids (smallest as numbers), then
    # the updated A's (older ids), though they were written between the B's and the C's
    assert seen[0]["Last_Name"] == "A1"
    assert [r["Last_Name"] for r in seen[20:22]] == ["I99", "I987654321"]
    assert all(r["Last_Name"].startswith("moved") for r in seen[22:42])
    assert seen[42]["Last_Name"] == "B0"


def test_a_page_that_ends_at_the_last_record(fake: FakeZoho, same_second) -> None:
    """more_records is false when the window ends exactly at the last match, true one row
    earlier, and the keyset after the last record is answered 204."""
    where = after(same_second[-27])
    exact = ask(fake, f"{SELECT} where {where} {KEYSET} limit 26")
    assert exact[1]["info"] == {"count": 26, "more_records": False}
    assert [r["id"] for r in exact[1]["data"]] == [r["id"] for r in same_second[-26:]]
    short = ask(fake, f"{SELECT} where {where} {KEYSET} limit 25")
    assert short[1]["info"] == {"count": 25, "more_records": True}
    assert ask(fake, f"{SELECT} where {after(same_second[-1])} {KEYSET} limit 200") == \
        (204, None)


@pytest.mark.parametrize("where", [
    "(id is not null)",
    "(Modified_Time >= '2026-07-01T10:00:01+00:00')",
    "(Modified_Time > '2026-07-01T10:00:00+00:00')",
    "(Modified_Time > '2026-07-01T10:00:00.500+00:00')",
    "(Modified_Time = '2026-07-01T10:00:01+00:00')",
    "((Modified_Time = '2026-07-01T10:00:01+00:00') and (id >= '{mid}'))",
    "((Modified_Time = '2026-07-01T10:00:01+00:00') and (id > '{mid}') and "
    "(Last_Name != 'C7'))",
    "((id > '{mid}') and (Modified_Time >= '2026-07-01T10:00:01+00:00'))",
    "((Modified_Time > '2026-07-01T10:00:01+00:00') or ((Modified_Time = "
    "'2026-07-01T10:00:01+00:00') and (id > '{mid}')))",
    "((Modified_Time > '2026-07-01T10:00:01+00:00') or (id = '99'))",
    "((Modified_Time > '2026-07-01T10:00:02+00:00') or ((Modified_Time = "
    "'2026-07-01T10:00:02+00:00') and (id > '{last}')))",
    "(id > '99')",
    "(Last_Name = 'B5')",
])
@pytest.mark.parametrize("window", ["limit 200", "limit 7 offset 3", "limit 2000",
                                    "limit 1 offset 480", "limit 26", ""])
def test_any_criteria_answer_as_the_general_evaluation(fake: FakeZoho, same_second, where,
                                                       window) -> None:
    """Keyset floors of every shape (and criteria with none), any window: the same answer
    (data, info.count, more_records, 204) as the general evaluation, one row past the
    window read at most once the floor is found."""
    mid, last = same_second[300]["id"], same_second[-1]["id"]
    where = where.format(mid=mid, last=last)
    fast = ask(fake, f"{SELECT} where {where} {KEYSET} {window}")
    assert fast == ask(fake, f"{SELECT} where {where} {GENERAL} {window}")


def test_strictness_is_unchanged(fake: FakeZoho, same_second) -> None:
    """Refusals come first, whatever path the query would take."""
    for query, code in [
            (f"{SELECT} where {KEYSET} limit 200", "SYNTAX_ERROR"),
            (f"{SELECT} where (id is not null {KEYSET} limit 200", "SYNTAX_ERROR"),
            (f"{SELECT} where (Nope = 'x') {KEYSET} limit 200", "INVALID_QUERY"),
            (f"select Nope from Contacts where (id is not null) {KEYSET}", "INVALID_QUERY"),
            (f"{SELECT} where (Modified_Time > 'yesterday') {KEYSET}", "INVALID_QUERY"),
            (f"{SELECT} where (id > 'abc') {KEYSET}", "INVALID_QUERY"),
            (f"{SELECT} where (id is not null) {KEYSET} limit 2001", "LIMIT_EXCEEDED"),
            (f"{SELECT} where (id is not null) {KEYSET} limit 2000 offset 98001",
             "LIMIT_EXCEEDED"),
            (f"{SELECT} where (id is not null) order by Modified_Time up", "SYNTAX_ERROR")]:
        with pytest.raises(ValidationError) as error:
            ask(fake, query)
        assert code in str(error.value), query


def test_the_zoho_backend_reads_a_crowded_second_whole(zoho: ZohoBackend, fake: FakeZoho,
                                                       same_second) -> None:
    """Through the zoho backend's own keyset paging, over the emulator (and its checks of
    Zoho's specification): every contact once, in COQL's order, in three pages."""
    records = list(zoho.crm.list_records("Contacts", fields=["Last_Name"]))
    assert [r.id for r in records] == [r["id"] for r in same_second]
    assert fake.count("POST", "/crm/v8/coql$") == 3


@pytest.mark.parametrize(("records", "queries"), [(200, 1), (201, 2), (400, 2), (401, 3)])
def test_a_listing_of_n_times_read_page_records_takes_n_queries(
        zoho: ZohoBackend, fake: FakeZoho, monkeypatch: pytest.MonkeyPatch, records: int,
        queries: int) -> None:
    """What the catch-up counts on (SideApi.read_back): up to n * 200 records, here in one
    second as a sync's writes are, end in n queries (`more_records` says when)."""
    monkeypatch.setenv("DESKCTL_NOW", S1)
    for start in range(0, records, 100):
        fake.sandbox.crm.create_records("Contacts", [
            {"Last_Name": f"N{i}"} for i in range(start, min(start + 100, records))])
    listed = [r.id for r in zoho.crm.list_records("Contacts", S1, ["Last_Name"])]
    assert len(listed) == len(set(listed)) == records
    assert zoho.crm.read_page == 200
    assert fake.count("POST", "/crm/v8/coql$") == queries
