"""`deskctl integration`: status, deactivation and re-authorisation."""

from __future__ import annotations

import click

from deskctl import output
from deskctl.app import App, pass_app
from deskctl.commands.options import changed_message, read_zsc_key, yes_option
from deskctl.services.integration import IntegrationService


def _service(app: App) -> IntegrationService:
    return IntegrationService(app.backend, app.state, app.credentials)


@click.group("integration")
def integration_group() -> None:
    """The integration as a whole: status, deactivate, re-authorise.

    \b
    Examples:
      deskctl integration status
      deskctl integration status -o json | jq .sync
      deskctl integration deactivate --yes
      deskctl --as new.admin@acme.example integration reauth
    """


@integration_group.command("status")
@pass_app
def status(app: App) -> None:
    """Portal, who set it up, sync mode and state, related lists, signals, Desk tab, last sync."""
    output.render(_service(app).status(), app.output)


@integration_group.command("deactivate")
@yes_option("Deactivate now; without it, only show what would happen.")
@pass_app
def deactivate(app: App, yes: bool) -> None:
    """Stop the integration for both accounts (admin only).

    Afterwards ticket, sync and user commands fail until a portal is linked again; a new
    setup starts over with default settings.
    """
    result = _service(app).deactivate(yes)
    output.render(result, app.output)
    changed_message(result, "The integration is deactivated.",
                    f"Would deactivate the integration with {result['portal']} and forget "
                    f"{result['synced_pairs_forgotten']} synced pairs; re-run with --yes.")


@integration_group.command("reauth")
@click.option("--zsc-key-stdin", "from_stdin", is_flag=True,
              help="For a portal linked with a ZSC key: read the key from stdin.")
@pass_app
def reauth(app: App, from_stdin: bool) -> None:
    """Re-authorise with the acting admin's credentials, keeping settings and mappings.

    For when the admin who set it up left, or their credentials stopped working.
    """
    key = read_zsc_key(from_stdin, required=False) if from_stdin else None
    output.render(_service(app).reauth(key), app.output)
