"""Rendering: data to stdout as table, JSON or YAML; messages and errors to stderr."""

from __future__ import annotations

import json
import logging
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


def to_text(data: Any, fmt: str, columns: Sequence[str] | None = None) -> str:
    """Format ``data`` (a list of dicts, a dict, or a scalar) in ``fmt``."""
    if fmt == "json":
        return json.dumps(data, indent=2, default=str, ensure_ascii=False)
    if fmt == "yaml":
        import yaml

        return yaml.safe_dump(json.loads(json.dumps(data, default=str)), sort_keys=False,
                              allow_unicode=True).rstrip("\n")
    from tabulate import tabulate

    if isinstance(data, Mapping):
        # scalars as KEY VALUE lines; lists of records as titled tables below them
        tables = {k: v for k, v in data.items()
                  if isinstance(v, list) and v and all(isinstance(i, Mapping) for i in v)}
        rest = {k: v for k, v in data.items() if k not in tables}
        parts = [tabulate(_flatten(rest), tablefmt="plain")] if rest else []
        parts += [f"\n{k.upper().replace('_', ' ')}\n{to_text(v, fmt)}" for k, v in tables.items()]
        return "\n".join(parts)
    if isinstance(data, list):
        if not data:
            return ""
        keys = list(columns or data[0].keys())
        rows = [[_cell(row.get(k)) for k in keys] for row in data]
        return tabulate(rows, headers=[k.upper().replace("_", " ") for k in keys],
                        tablefmt="simple", disable_numparse=True)
    return str(data)


def render(data: Any, fmt: str, columns: Sequence[str] | None = None,
           empty: str | None = None) -> None:
    """Print data on stdout; an empty table prints nothing there and ``empty`` on stderr."""
    if fmt == "table" and isinstance(data, list) and not data:
        if empty:
            message(empty)
        return
    click.echo(to_text(data, fmt, columns))


_quiet = False


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


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


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
