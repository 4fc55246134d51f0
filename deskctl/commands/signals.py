"""`deskctl signals`: SalesSignals settings."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import click

from deskctl import output
from deskctl.app import App, pass_app
from deskctl.commands.completion import modules
from deskctl.models.integration import SIGNAL_KINDS
from deskctl.services.settings import SettingsService

KIND = click.Choice(SIGNAL_KINDS)


@click.group("signals")
def signals_group() -> None:
    """SalesSignals: notifications about tickets of leads, contacts and prospects.

    \b
    Examples:
      deskctl signals list --since 2026-11-01
      deskctl signals watch >> signals.jsonl      # from cron: each signal once
      deskctl signals watch --follow --interval 60 | my-notifier
      deskctl signals configure --disable new-rating --disable ticket-overdue
    """


@signals_group.command("configure")
@click.option("--enable", multiple=True, type=KIND, help="Kind to turn on (repeatable).")
@click.option("--disable", multiple=True, type=KIND, help="Kind to turn off (repeatable).")
@pass_app
def configure(app: App, enable: tuple[str, ...], disable: tuple[str, ...]) -> None:
    """Turn signal kinds on or off (admin only); shows the resulting settings."""
    signals = SettingsService(app.backend, app.state).configure_signals(list(enable),
                                                                        list(disable))
    rows = [{"kind": k, "enabled": v} for k, v in signals.items()]
    output.render(rows if app.output == "table" else signals, app.output)


@signals_group.command("list")
@click.option("--since", metavar="TIME", help="Only signals at or after this ISO 8601 time.")
@click.option("--module", metavar="MODULE", shell_complete=modules,
              help="Only signals of one CRM record ...")
@click.option("--record", "record_id", metavar="ID", help="... with this id.")
@pass_app
def list_(app: App, since: str | None, module: str | None, record_id: str | None) -> None:
    """Signals of the enabled kinds, newest first."""
    from deskctl.services.signals import SignalService

    rows = SignalService(app.backend, app.state).recent(since, module, record_id)
    if app.output == "table":
        rows = [{"time": s["time"], "kind": s["kind"], "ticket": s["ticket"]["number"],
                 "subject": s["ticket"]["subject"],
                 "from": f"{s['from']['name']} ({s['from']['as']})", "detail": s["detail"]}
                for s in rows]
    output.render(rows, app.output, empty="No signals.")


@signals_group.command("watch")
@click.option("--follow", "-f", is_flag=True,
              help="Keep printing new signals until interrupted (Ctrl-C, SIGTERM or SIGHUP: "
                   "exit 0).")
@click.option("--interval", type=click.FloatRange(min=0.1), metavar="SECONDS",
              help="With --follow: seconds between checks (default 30; each check reads "
                   "as much as one 'signals watch').")
@pass_app
def watch(app: App, follow: bool, interval: float | None) -> None:
    """Print each new signal once, as one JSON object per line (cursor in the state).

    At-least-once: a signal counts as delivered after its line is written and flushed, so
    a crash in between prints it again on the next call; none is lost.
    """
    from deskctl.errors import UsageError
    from deskctl.services.locking import interruptible
    from deskctl.services.signals import SignalService

    if interval is not None and not follow:
        raise UsageError("--interval needs --follow")
    service = SignalService(app.backend, app.state)
    if not follow:
        _print_lines(service.watch())
        return
    try:
        with interruptible():  # SIGTERM and SIGHUP unwind like Ctrl-C: transactions roll back
            _print_lines(service.follow(30.0 if interval is None else interval))
    except KeyboardInterrupt:
        pass  # asked to stop: what was printed is delivered, or comes again next time


def _print_lines(signals: Iterator[dict[str, Any]]) -> None:
    """One JSON line per signal, flushed before the next is taken (which acknowledges it)."""
    for item in signals:
        sys.stdout.write(json.dumps(item, sort_keys=True) + "\n")
        sys.stdout.flush()
