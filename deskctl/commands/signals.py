"""`deskctl signals`: SalesSignals settings."""

from __future__ import annotations

import click

from deskctl import output
from deskctl.app import App, pass_app
from deskctl.models.integration import SIGNAL_KINDS
from deskctl.services.settings import SettingsService

KIND = click.Choice(SIGNAL_KINDS)


@click.group("signals")
def signals_group() -> None:
    """SalesSignals: notifications about tickets of leads, contacts and prospects.

    \b
    Examples:
      deskctl signals configure --disable new-rating --disable ticket-overdue
      deskctl signals configure --enable new-rating
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
