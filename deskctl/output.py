"""Rendering: data to stdout as table, JSON or YAML; messages and errors to stderr."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from deskctl.progress import Progress


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(_cell(v)) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_cell(v)}" for k, v in value.items())
    return value


def _flatten(data: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for key, value in data.items():
        if isinstance(value, Mapping) and value:
            rows.extend(_flatten(value, f"{prefix}{key}."))
        else:
            rows.append((f"{prefix}{key}", _cell(value)))
    return rows


def table_width() -> int | None:
    """The width tables fit: the terminal's (or COLUMNS), COLUMNS when stdout is not a
    terminal, and None (whole tables) otherwise or with -o wide."""
    if _wide:
        return None
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def _text(value: Any, width: int | None) -> str:
    text = str(_cell(value))
    return " ".join(text.split()) if width else text  # a fitted row stays on one line


def _table(data: list[Any], columns: str | Sequence[str] | None, width: int | None,
           notes: list[str]) -> str:
    from tabulate import tabulate

    from deskctl.tables import columns_for, fit, shorten

    keys = list(dict.fromkeys(k for row in data for k in row))
    spec = columns_for(columns, keys)
    headers = [c.key.upper().replace("_", " ") for c in spec]
    rows = [[_text(row.get(c.key), width) for c in spec] for row in data]
    if width:
        fitted = fit(headers, rows, spec, width)
        if fitted.hidden:
            notes.append(f"Left out {', '.join(headers[i] for i in fitted.hidden)} to fit "
                         f"{width} columns; -o wide shows every column.")
        rows = [[shorten(row[i], w) for i, w in zip(fitted.columns, fitted.widths, strict=True)]
                for row in rows]
        headers = [headers[i] for i in fitted.columns]
    return tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)


def to_text(data: Any, fmt: str, columns: str | Sequence[str] | None = None,
            notes: list[str] | None = None) -> str:
    """Format ``data`` (a list of dicts, a dict, or a scalar) in ``fmt``. ``columns`` names
    a table of deskctl/tables.py (or lists the keys to show); tables fit table_width(), and
    what they leave out is described in ``notes``."""
    if fmt == "json":
        return json.dumps(data, indent=2, default=str, ensure_ascii=False)
    if fmt == "yaml":
        import yaml

        return yaml.safe_dump(json.loads(json.dumps(data, default=str)), sort_keys=False,
                              allow_unicode=True).rstrip("\n")
    from tabulate import tabulate

    from deskctl.tables import GAP, SHORTEST, shorten

    notes = [] if notes is None else notes
    width = table_width()
    if isinstance(data, Mapping):
        # scalars as KEY VALUE lines; lists of records as titled tables below them
        tables = {k: v for k, v in data.items()
                  if isinstance(v, list) and v and all(isinstance(i, Mapping) for i in v)}
        rest = _flatten({k: v for k, v in data.items() if k not in tables})
        if width and rest:
            room = max(SHORTEST, width - GAP - max(len(k) for k, _v in rest))
            rest = [(k, shorten(_text(v, width), room)) for k, v in rest]
        parts = [tabulate(rest, tablefmt="plain")] if rest else []
        parts += [f"\n{k.upper().replace('_', ' ')}\n{_table(v, None, width, notes)}"
                  for k, v in tables.items()]
        return "\n".join(parts)
    if isinstance(data, list):
        return _table(data, columns, width, notes) if data else ""
    return str(data)


def render(data: Any, fmt: str, columns: str | Sequence[str] | None = None,
           empty: str | None = None) -> None:
    """Print data on stdout; an empty table prints nothing there and ``empty`` on stderr.
    A table that leaves columns out to fit says which on stderr."""
    if fmt == "table" and isinstance(data, list) and not data:
        if empty:
            message(empty)
        return
    notes: list[str] = []
    click.echo(to_text(data, fmt, columns, notes))
    for note in notes:
        message(note)


_quiet = False
_wide = False


def set_wide(wide: bool) -> None:
    """-o wide: tables show every column, whole, whatever the terminal's width."""
    global _wide
    _wide = wide


def set_quiet(quiet: bool) -> None:
    global _quiet
    _quiet = quiet


def message(text: str) -> None:
    """Progress and confirmations on stderr; silenced by -q."""
    if not _quiet:
        click.echo(text, err=True)


def progress() -> Progress:
    """A live status for long work: on stderr when it is a terminal and -q is not given;
    otherwise one that shows nothing (logs and pipes get only the final summary)."""
    from deskctl.progress import LiveStatus, Progress

    return LiveStatus(sys.stderr) if sys.stderr.isatty() and not _quiet else Progress()


def warn(text: str) -> None:
    click.echo(f"Warning: {text}", err=True)


def error(text: str, problems: Sequence[str] = (), as_json: dict[str, Any] | None = None) -> None:
    lines = [f"Error: {text}", *(f"  - {p}" for p in problems)]
    click.echo("\n".join(lines), err=True)
    if as_json is not None:
        click.echo(json.dumps(as_json), err=True)


class _StderrHandler(logging.Handler):
    """Writes to whatever stderr is now (click may have swapped it)."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(self.format(record), err=True)


_handler = _StderrHandler()
_handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))


def log_to_stderr(verbosity: int) -> None:
    """-v: deskctl's logs (HTTP requests, secrets redacted) on stderr; -vv or --debug: more;
    none: warnings only."""
    logger = logging.getLogger("deskctl")
    if _handler not in logger.handlers:
        logger.addHandler(_handler)
    logger.setLevel({0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG))
