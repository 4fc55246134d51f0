"""`deskctl sandbox`: the local backend's simulated CRM and Desk, and the outside world."""

from __future__ import annotations

import click

from deskctl import output
from deskctl.app import App, pass_app
from deskctl.backends.base import DESK_KINDS
from deskctl.commands.completion import modules, users
from deskctl.commands.options import (
    ASSIGNMENT,
    confirm,
    limit_option,
    parse_assignments,
    portal_option,
    read_text,
    report_change,
    yes_option,
)
from deskctl.services.sandbox import SandboxService

KIND = click.Choice(DESK_KINDS)


def _service(app: App) -> SandboxService:
    return SandboxService(app.backend, app.state)


@click.group("sandbox")
def sandbox_group() -> None:
    """Fill and inspect the embedded CRM and Desk, and act as the outside world.

    \b
    Examples:
      deskctl sandbox seed --random-seed 7
      deskctl sandbox info
      deskctl sandbox crm create Contacts Last_Name=Doe Email=jane@doe.example
      deskctl sandbox customer rate 2068330000000042 good
      deskctl sandbox accept sam.sales@acme.example
    """


@sandbox_group.command("seed")
@click.option("--random-seed", type=int, default=1, show_default=True,
              help="Same seed on the same sandbox, same data.")
@click.option("--accounts", type=int, default=6, show_default=True,
              help="CRM accounts to add (half of them also in Desk).")
@click.option("--contacts", type=int, default=15, show_default=True,
              help="CRM contacts to add (a third of them also in Desk).")
@click.option("--leads", type=int, default=6, show_default=True, help="CRM leads to add.")
@click.option("--deals", type=int, default=5, show_default=True, help="CRM deals to add.")
@click.option("--tickets", type=int, default=12, show_default=True,
              help="Desk tickets to add, with replies, comments and ratings.")
@click.option("--messy", is_flag=True,
              help="One contact in seven shares an email with another (default: one in a "
                   "hundred), for testing ambiguous matches.")
@click.option("--force", is_flag=True, help="Allow counts above 1,000,000.")
@pass_app
def seed(app: App, random_seed: int, messy: bool, force: bool, **counts: int) -> None:
    """Add users, portals and realistic records (adds to what is there)."""
    with output.progress() as progress:
        added = _service(app).seed(random_seed, messy, force, progress, **counts)
    output.render([{"kind": k, "added": v} for k, v in added.items()], app.output)


@sandbox_group.command("reset")
@yes_option("Reset without asking (needed when there is no terminal).")
@pass_app
def reset(app: App, yes: bool) -> None:
    """Delete the sandbox and this profile's integration settings (the audit log stays).

    Asks first on a terminal; without one it needs --yes.
    """
    if not yes:
        confirm(f"Delete the sandbox {app.config.local_path} and this profile's integration "
                "settings?", "sandbox reset deletes the sandbox and the integration settings")
    path = _service(app).reset()
    report_change(app.output, {"removed": path, "integration_settings": "cleared"},
                  f"Removed the sandbox {path} and the integration settings.")


@sandbox_group.command("info")
@pass_app
def info(app: App) -> None:
    """Show the sandbox: file, CRM users, record counts, portals with admins and ZSC keys."""
    output.render(_service(app).info(), app.output)


@sandbox_group.command("outbox")
@limit_option
@pass_app
def outbox(app: App, limit: int | None) -> None:
    """Show mail the sandbox "sent" (invitations, replies), newest first."""
    output.render(_service(app).outbox(limit), app.output, "sandbox outbox",
                  empty="The outbox is empty.")


@sandbox_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="A loopback address.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="0 picks a free port.")
@click.option("--latency-ms", type=click.FloatRange(min=0), default=0.0,
              help="Zoho's round trip as a client sees it: every answer (faults too) "
                   "leaves this long after its request arrived, the sandbox's own work "
                   "included, never sooner.")
@click.option("--error-rate", type=click.FloatRange(0, 1), default=0.0,
              help="Share of requests answered 503.")
@click.option("--rate-limit", metavar="N/s", default="0",
              help="Answer 429 (Retry-After: 1) above N requests per second.")
@click.option("--drop-rate", type=click.FloatRange(0, 1), default=0.0,
              help="Share of connections closed without an answer.")
@click.option("--daily-limit", type=click.IntRange(min=0), default=0, metavar="N",
              help="After N API calls per service, answer as Zoho does when the day's API "
                   "credits are spent (0: never).")
@click.option("--lost-create-rate", type=click.FloatRange(0, 1), default=0.0,
              help="Share of creates carried out whose answer is then lost (connection "
                   "dropped or 504), to rehearse a sync's recovery.")
@pass_app
def serve(app: App, host: str, port: int, latency_ms: float, error_rate: float,
          rate_limit: str, drop_rate: float, daily_limit: int, lost_create_rate: float) -> None:
    """Serve the sandbox as an offline Zoho (CRM v8, Desk v1, OAuth) until interrupted.

    Point the zoho backend at it with zoho.crm_url, zoho.desk_url and zoho.accounts_url
    (or DESKCTL_ZOHO_*_URL) set to the printed address; any client id, secret and refresh
    token are accepted.
    """
    from deskctl.backends.local.emulator import Emulator
    from deskctl.backends.local.server import Faults, make_server
    from deskctl.errors import UsageError

    try:
        rate = float(rate_limit.removesuffix("/s"))
    except ValueError:
        raise UsageError(f"--rate-limit expects N/s, got {rate_limit!r}") from None
    service = _service(app)
    emulator = Emulator(service.backend)
    server = make_server(emulator, host, port, Faults(latency_ms, error_rate, rate, drop_rate,
                                                      daily_limit=daily_limit,
                                                      lost_create_rate=lost_create_rate))
    address = f"http://{host}:{server.server_address[1]}"
    emulator.api_domain = address  # the token answer points the CRM back here
    output.message(f"Serving the sandbox as Zoho at {address} (Ctrl-C stops).\n"
                   f"  export DESKCTL_BACKEND=zoho DESKCTL_ZOHO_CRM_URL={address} "
                   f"DESKCTL_ZOHO_DESK_URL={address} DESKCTL_ZOHO_ACCOUNTS_URL={address}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        output.message("Stopped.")
    finally:
        server.server_close()


@sandbox_group.command("accept")
@click.argument("email", shell_complete=users)
@portal_option
@pass_app
def accept(app: App, email: str, portal: str | None) -> None:
    """Accept a Desk invitation as the invited user."""
    output.render(_service(app).accept(email, portal), app.output)


@sandbox_group.group("crm")
def crm() -> None:
    """Act as a CRM user: list, create, update and delete CRM records."""


@crm.command("list")
@click.argument("module", shell_complete=modules)
@limit_option
@pass_app
def crm_list(app: App, module: str, limit: int | None) -> None:
    """List the records of a CRM module (Leads, Contacts, Accounts, Deals, ...)."""
    output.render(_service(app).crm_list(module, limit), app.output, empty="No records.")


@crm.command("create")
@click.argument("module", shell_complete=modules)
@click.argument("fields", nargs=-1, metavar="FIELD=VALUE...",
                type=ASSIGNMENT)
@pass_app
def crm_create(app: App, module: str, fields: tuple[str, ...]) -> None:
    """Create a CRM record."""
    record = _service(app).crm_write("create", module, None, parse_assignments(fields))
    output.render(record, app.output)


@crm.command("update")
@click.argument("module", shell_complete=modules)
@click.argument("record_id", metavar="ID")
@click.argument("fields", nargs=-1, required=True, metavar="FIELD=VALUE...",
                type=ASSIGNMENT)
@pass_app
def crm_update(app: App, module: str, record_id: str, fields: tuple[str, ...]) -> None:
    """Update fields of a CRM record (FIELD= empties a field)."""
    record = _service(app).crm_write("update", module, record_id, parse_assignments(fields))
    output.render(record, app.output)


@crm.command("delete")
@click.argument("module", shell_complete=modules)
@click.argument("record_id", metavar="ID")
@pass_app
def crm_delete(app: App, module: str, record_id: str) -> None:
    """Delete a CRM record (it leaves a tombstone, as in Zoho's deleted-records feed)."""
    output.render(_service(app).crm_write("delete", module, record_id, {}), app.output)


@sandbox_group.group("desk")
def desk() -> None:
    """Act as a Desk agent: list, create, update and delete Desk records."""


@desk.command("list")
@click.argument("kind", type=KIND)
@portal_option
@limit_option
@pass_app
def desk_list(app: App, kind: str, portal: str | None, limit: int | None) -> None:
    """List Desk contacts, accounts or tickets."""
    output.render(_service(app).desk_list(kind, portal, limit), app.output,
                  "sandbox tickets" if kind == "tickets" else None, empty="No records.")


@desk.command("create")
@click.argument("kind", type=KIND)
@click.argument("fields", nargs=-1, metavar="FIELD=VALUE...",
                type=ASSIGNMENT)
@portal_option
@pass_app
def desk_create(app: App, kind: str, fields: tuple[str, ...], portal: str | None) -> None:
    """Create a Desk record."""
    record = _service(app).desk_write("create", kind, None, parse_assignments(fields), portal)
    output.render(record, app.output)


@desk.command("update")
@click.argument("kind", type=KIND)
@click.argument("record_id", metavar="ID")
@click.argument("fields", nargs=-1, required=True, metavar="FIELD=VALUE...",
                type=ASSIGNMENT)
@portal_option
@pass_app
def desk_update(app: App, kind: str, record_id: str, fields: tuple[str, ...],
                portal: str | None) -> None:
    """Update fields of a Desk record."""
    record = _service(app).desk_write("update", kind, record_id, parse_assignments(fields),
                                      portal)
    output.render(record, app.output)


@desk.command("delete")
@click.argument("kind", type=KIND)
@click.argument("record_id", metavar="ID")
@portal_option
@pass_app
def desk_delete(app: App, kind: str, record_id: str, portal: str | None) -> None:
    """Delete a Desk record (to the recycle bin; an account is taken off its contacts)."""
    output.render(_service(app).desk_write("delete", kind, record_id, {}, portal), app.output)


@sandbox_group.group("customer")
def customer() -> None:
    """Act as the ticket's customer: reply, comment, rate."""


@customer.command("reply")
@click.argument("ticket_id", metavar="TICKET_ID")
@click.option("--text", required=True, help="The reply; - reads it from stdin.")
@portal_option
@pass_app
def customer_reply(app: App, ticket_id: str, text: str, portal: str | None) -> None:
    """Reply to a ticket as its customer."""
    output.render(_service(app).customer("reply", ticket_id, read_text(text), portal), app.output)


@customer.command("comment")
@click.argument("ticket_id", metavar="TICKET_ID")
@click.option("--text", required=True, help="The comment; - reads it from stdin.")
@portal_option
@pass_app
def customer_comment(app: App, ticket_id: str, text: str, portal: str | None) -> None:
    """Comment on a ticket as its customer."""
    output.render(_service(app).customer("comment", ticket_id, read_text(text), portal),
                  app.output)


@customer.command("rate")
@click.argument("ticket_id", metavar="TICKET_ID")
@click.argument("rating", type=click.Choice(["good", "okay", "bad"]))
@portal_option
@pass_app
def customer_rate(app: App, ticket_id: str, rating: str, portal: str | None) -> None:
    """Rate a ticket as its customer."""
    output.render(_service(app).customer("rate", ticket_id, rating, portal), app.output)
