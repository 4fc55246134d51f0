"""`deskctl portal`: list, link (own, new, another user's) and switch the Desk portal."""

from __future__ import annotations

import click

from deskctl import output
from deskctl.app import App, pass_app
from deskctl.commands.completion import portals
from deskctl.commands.options import changed_message, read_zsc_key, yes_option
from deskctl.services.integration import IntegrationService


def _service(app: App) -> IntegrationService:
    return IntegrationService(app.backend, app.state, app.credentials)


@click.group("portal")
def portal_group() -> None:
    """Link the Desk portal the CRM integrates with (one at a time; admin only).

    \b
    Examples:
      deskctl portal list
      deskctl portal connect acme-support
      deskctl portal create my-helpdesk
      printf '%s' "$KEY" | deskctl portal connect-other \\
          --admin-email helen@globex.example --zsc-key-stdin
      deskctl portal switch acme-labs          # shows what would be unlinked
      deskctl portal switch acme-labs --yes
    """


@portal_group.command("list")
@pass_app
def list_(app: App) -> None:
    """Show the Desk portals you administer and which one is linked."""
    output.render(_service(app).portals(), app.output, empty="You administer no Desk portal.")


@portal_group.command("connect")
@click.argument("portal", shell_complete=portals)
@pass_app
def connect(app: App, portal: str) -> None:
    """Link one of your portals (PORTAL = name or id)."""
    result = _service(app).connect(portal)
    output.render(result, app.output)
    changed_message(result, f"Linked portal {result['portal']}.",
                    f"Portal {result['portal']} is already linked; nothing changed.")


@portal_group.command("create")
@click.argument("name")
@pass_app
def create(app: App, name: str) -> None:
    """Create a new Desk portal with this name and link it."""
    result = _service(app).create(name)
    output.render(result, app.output)
    output.message(f"Created and linked portal {result['portal']}.")


@portal_group.command("connect-other")
@click.option("--admin-email", required=True, metavar="EMAIL",
              help="The portal administrator's email.")
@click.option("--zsc-key-stdin", "from_stdin", is_flag=True,
              help="Read the ZSC key from stdin (else DESKCTL_ZSC_KEY, else a hidden prompt).")
@pass_app
def connect_other(app: App, admin_email: str, from_stdin: bool) -> None:
    """Link another user's portal with its administrator's ZSC key."""
    result = _service(app).connect_other(admin_email, str(read_zsc_key(from_stdin)))
    output.render(result, app.output)
    changed_message(result, f"Linked portal {result['portal']}.",
                    f"Portal {result['portal']} is already linked; nothing changed.")
    if not result["zsc_key_stored"]:
        output.warn("no usable keyring: the ZSC key was not stored; keep DESKCTL_ZSC_KEY set")


@portal_group.command("switch")
@click.argument("portal", shell_complete=portals)
@yes_option("Switch now; without it, only show what would be unlinked.")
@pass_app
def switch(app: App, portal: str, yes: bool) -> None:
    """Link another of your portals instead of the current one.

    Unlinks the ticket associations of Leads, Contacts and Accounts (the tickets stay in
    Desk). Without --yes it only shows what would be unlinked.
    """
    result = _service(app).switch(portal, yes)
    if app.output == "table":
        output.message(f"Switch from {result['from']} to {result['to']} unlinks:")
        output.render(result["unlinks"], "table")
    else:
        output.render(result, app.output)
    changed_message(result, f"Switched to portal {result['to']}.",
                    "Nothing changed; re-run with --yes to switch.")
