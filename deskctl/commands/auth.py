"""`deskctl auth`: store, inspect and remove credentials (values never in argv or output)."""

from __future__ import annotations

import click

from deskctl import output
from deskctl.app import App, pass_app
from deskctl.commands.options import read_secret, report_change
from deskctl.credentials import CREDENTIALS
from deskctl.services.credentials import CredentialService

NAMES = click.Choice([c.name for c in CREDENTIALS])


def _service(app: App) -> CredentialService:
    return CredentialService(app.credentials, app.state, app.os_user)


@click.group("auth")
def auth_group() -> None:
    """Manage credentials in the OS keyring (environment variables as a fallback).

    \b
    Examples:
      deskctl auth set zoho_refresh_token          # prompts without echo
      printf '%s' "$TOKEN" | deskctl auth set zoho_refresh_token --stdin
      deskctl auth status
      deskctl auth clear zoho_refresh_token
      deskctl auth scopes              # what to grant when creating the refresh token
    """


@auth_group.command("set")
@click.argument("name", type=NAMES)
@click.option("--stdin", "from_stdin", is_flag=True, help="Read the value from stdin.")
@pass_app
def set_(app: App, name: str, from_stdin: bool) -> None:
    """Store a credential in the keyring (read from stdin or a hidden prompt)."""
    app.credentials.require_keyring(name)  # before anyone types a secret
    value = read_secret(name.replace("_", " "), from_stdin)
    result = _service(app).set(name, value)
    report_change(app.output, result,
                  f"Stored {name} in the keyring (profile {result['profile']}).")


@auth_group.command("status")
@pass_app
def status(app: App) -> None:
    """Show the keyring and where each credential comes from (never its value)."""
    store = app.credentials
    output.render({"keyring": store.keyring_status(), "credentials": store.describe()},
                  app.output)
    if store.unavailable_reason:
        output.message(f"Keyring not used: {store.unavailable_reason}; "
                       "environment variables are used.")


@auth_group.command("clear")
@click.argument("name", type=NAMES)
@pass_app
def clear(app: App, name: str) -> None:
    """Remove a credential from the keyring."""
    report_change(app.output, _service(app).clear(name), f"Removed {name} from the keyring.",
                  f"{name} was not in the keyring; nothing removed.")


@auth_group.command("scopes")
@pass_app
def scopes(app: App) -> None:
    """The Zoho OAuth scopes deskctl needs, per feature, and the whole consent string.

    Grant them when you create the refresh token (Zoho API console > Self Client >
    Generate Code). A call without its scope fails with exit 5 naming the missing one.
    """
    from deskctl.backends.zoho.scopes import FEATURES, all_scopes

    consent = ",".join(all_scopes())
    if app.output == "table":
        output.render([{"feature": f, "scopes": ", ".join(s)} for f, s in FEATURES.items()],
                      app.output, ["feature", "scopes"])
        output.message(f"All of them, for the consent screen:\n{consent}")
    else:
        output.render({"features": {f: list(s) for f, s in FEATURES.items()},
                       "consent": consent}, app.output)
