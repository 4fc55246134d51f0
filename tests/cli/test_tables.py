"""Tables that fit (issue 13 item 2): at the terminal's width (COLUMNS when stdout is not a
terminal), key columns first, long cells shortened with an ellipsis, left-out columns named on
stderr; -o wide and no COLUMNS give whole tables; json and yaml never change."""

from __future__ import annotations

from typing import Any

import pytest

from deskctl import tables

WIDE_TABLES = [("ticket", "list"), ("audit",), ("sandbox", "desk", "list", "tickets"),
               ("users", "list"), ("sandbox", "info"), ("integration", "status"),
               ("sandbox", "crm", "list", "Contacts"), ("related-list", "list")]


@pytest.fixture
def world(seeded) -> Any:
    assert seeded("portal", "connect", "acme-support").exit_code == 0
    contact = seeded("sandbox", "crm", "list", "Contacts", "-o", "json").json()[0]["id"]
    long = "The printer in the third floor meeting room prints every page twice, " * 3
    created = seeded("ticket", "create", "--module", "Contacts", "--record", contact,
                     "--subject", long.strip(), "--new-contact",
                     "Maximiliane Oberhauser-Wittgenstein <maximiliane@example.example>")
    assert created.exit_code == 0, created.stderr
    return seeded


@pytest.mark.parametrize("width", [80, 200])
@pytest.mark.parametrize("command", WIDE_TABLES)
def test_tables_fit_columns(world, command, width) -> None:
    whole = world(*command)
    assert whole.exit_code == 0, whole.stderr
    fitted = world(*command, env={"COLUMNS": str(width)})
    assert fitted.exit_code == 0, fitted.stderr
    lines = fitted.stdout.splitlines()
    assert lines and max(len(line) for line in lines) <= width, fitted.stdout
    assert len(lines) == len(whole.stdout.splitlines())  # no row wraps or goes missing
    if max(len(line) for line in whole.stdout.splitlines()) > width:
        assert "…" in fitted.stdout or "Left out" in fitted.stderr


def test_ticket_list_at_80_keeps_key_columns_and_names_the_rest(world) -> None:
    result = world("ticket", "list", env={"COLUMNS": "80"})
    header = result.stdout.splitlines()[0].split()
    assert header[:3] == ["ID", "NUMBER", "SUBJECT"] and "STATUS" in header
    assert "DEAL" not in header and "CONTACT" not in header
    assert result.stderr.strip() == ("Left out DUE, OWNER, CONTACT, DEAL to fit 80 columns; "
                                     "-o wide shows every column.")
    row = next(line for line in result.stdout.splitlines() if "The printer" in line)
    assert row.rstrip().endswith("…") or "… " in row
    assert "prints every page twice, The printer" not in row
    quiet = world("ticket", "list", "-q", env={"COLUMNS": "80"})
    assert quiet.stderr == "" and quiet.stdout == result.stdout


def test_ticket_list_at_200_shows_more(world) -> None:
    result = world("ticket", "list", env={"COLUMNS": "200"})
    header = result.stdout.splitlines()[0].split()
    assert header == ["ID", "NUMBER", "SUBJECT", "STATUS", "PRIORITY", "DUE", "OWNER",
                      "CONTACT", "DEAL"]
    assert "Left out" not in result.stderr
    assert "Maximiliane Oberhauser-Wittgenstein" in result.stdout


def test_wide_and_no_columns_show_everything_whole(world) -> None:
    long_subject = world("ticket", "list", "-o", "json").json()
    subject = next(t["subject"] for t in long_subject if t["subject"].startswith("The"))
    for args, env in ((("-o", "wide"), {"COLUMNS": "80"}), ((), None)):
        result = world("ticket", "list", *args, env=env)
        assert result.exit_code == 0
        assert subject in result.stdout and "…" not in result.stdout
        assert "Left out" not in result.stderr
        assert result.stdout.splitlines()[0].split()[-1] == "DEAL"
    assert world("-o", "wide", "audit", env={"COLUMNS": "80"}).stdout == world("audit").stdout


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_machine_output_never_changes_with_the_width(world, fmt) -> None:
    for command in (("ticket", "list"), ("audit",), ("sandbox", "info")):
        whole = world(*command, "-o", fmt).stdout
        assert world(*command, "-o", fmt, env={"COLUMNS": "40"}).stdout == whole


def test_wide_can_be_the_configured_default(world, tmp_path) -> None:
    (tmp_path / "deskctl.yaml").write_text("output: wide\n")
    result = world("ticket", "list", env={"COLUMNS": "80"})
    assert "Left out" not in result.stderr and "DEAL" in result.stdout.splitlines()[0]


def test_fit_gives_way_in_priority_order() -> None:
    spec = tables.columns_for("ticket list", [])
    headers = [c.key.upper() for c in spec]
    row = ["206833000000000105", "101", "A rather long subject " * 4, "Open", "High",
           "2026-12-04T05:28:14Z", "omar@acme.example", "Kim Roe <kim@roe.example>",
           "Big renewal (Negotiation, 90,000)"]
    narrow = tables.fit(headers, [row], spec, 66)
    assert [headers[i] for i in narrow.columns] == ["ID", "NUMBER", "SUBJECT", "STATUS",
                                                    "PRIORITY"]
    assert sum(narrow.widths) + tables.GAP * (len(narrow.widths) - 1) <= 66
    at_60 = tables.fit(headers, [row], spec, 60)
    assert [headers[i] for i in at_60.hidden][0] == "NUMBER"  # priority 3 goes before DUE (4)
    assert [headers[i] for i in narrow.hidden] == ["DUE", "OWNER", "CONTACT", "DEAL"]
    roomy = tables.fit(headers, [row], spec, 400)
    assert roomy.hidden == [] and roomy.widths[2] == len(row[2])
    assert tables.shorten("abcdef", 4) == "abc…" and tables.shorten("abc", 4) == "abc"
