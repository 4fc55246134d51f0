"""`deskctl ticket`: work on Desk tickets from the CRM."""

from __future__ import annotations

import click

from deskctl import output
from deskctl.app import App, pass_app
from deskctl.commands.completion import modules
from deskctl.commands.options import (
    ASSIGNMENT,
    limit_option,
    parse_assignments,
    read_text,
    report_change,
    yes_option,
)
from deskctl.services.ticket_queue import SORTS, VIEWS
from deskctl.services.tickets import TicketService


def _service(app: App) -> TicketService:
    return TicketService(app.backend, app.state, app.config.get("desk.from_address"))


def _deal_text(deal: dict | None) -> str:
    if not deal:
        return ""
    amount = f"{deal['amount']:,.0f}" if deal.get("amount") is not None else "-"
    return f"{deal['name']} ({deal['stage']}, {amount})"


@click.group("ticket")
def ticket_group() -> None:
    """Tickets: list, show, create, comment, reply, forward, update, close, deal links.

    What you may do depends on your Desk role (light-agent: comment; agent: also reply,
    forward, create, update, close and link deals; admin: also assign and delete).

    \b
    Examples:
      deskctl ticket list --view overdue --sort deal-amount
      deskctl ticket list --module Contacts --record 5725767000000000041
      deskctl ticket create --module Contacts --record 5725767000000000041 \\
          --subject "Invoice question" --priority High --due 2026-12-01
      echo "Thanks, fixed." | deskctl ticket reply 206833000000000183 --text -
      deskctl ticket update 206833000000000183 status=On\\ Hold priority=Low
      deskctl ticket link-deal 206833000000000183 --deal 5725767000000000061
    """


@ticket_group.command("list")
@click.option("--module", metavar="MODULE", shell_complete=modules,
              help="Only tickets of one CRM record ...")
@click.option("--record", "record_id", metavar="ID", help="... with this id.")
@click.option("--view", type=click.Choice(VIEWS), default="all", show_default=True,
              help="Which tickets: all, overdue, closed (any status of type Closed), "
                   "forwarded, or High/Urgent.")
@click.option("--sort", type=click.Choice(SORTS), default="created", show_default=True,
              help="Order: newest first, due date, priority, or largest linked deal.")
@limit_option
@pass_app
def list_(app: App, module: str | None, record_id: str | None, view: str, sort: str,
          limit: int | None) -> None:
    """List tickets with status, priority, due date, owner, contact and linked deal."""
    rows = _service(app).queue(module, record_id, view, sort, limit)
    if app.output == "table":
        rows = [{**r, "deal": _deal_text(r["deal"])} for r in rows]
    output.render(rows, app.output, "ticket list", empty="No tickets.")


@ticket_group.command("show")
@click.argument("ticket_id", metavar="ID")
@pass_app
def show(app: App, ticket_id: str) -> None:
    """A ticket's fields, its conversation in order, and its deals."""
    data = _service(app).show(ticket_id)
    if app.output == "table":
        data = {**data, "deal": _deal_text(data["deal"]),
                "conversation": [{"at": e["created_time"], "kind": e["kind"],
                                  "by": e["author"],
                                  "text": e.get("content") or e.get("rating") or e.get("name")}
                                 for e in data["conversation"]],
                "history": []}
        data.pop("fields")
    output.render(data, app.output)


@ticket_group.command("history")
@click.argument("ticket_id", metavar="ID")
@pass_app
def history(app: App, ticket_id: str) -> None:
    """A ticket's history: who changed which field when (oldest first)."""
    rows = _service(app).history(ticket_id)
    output.render(rows, app.output, "ticket history", empty="No history.")


@ticket_group.command("create")
@click.option("--module", required=True, metavar="MODULE", shell_complete=modules,
              help="The CRM module of the record the ticket is about (e.g. Contacts).")
@click.option("--record", "record_id", required=True, metavar="ID",
              help="The id of that CRM record; its Desk contact becomes the ticket's.")
@click.option("--subject", required=True, help="The ticket's subject; - reads it from stdin.")
@click.option("--description", help="- reads it from stdin.")
@click.option("--contact", metavar="EMAIL_OR_ID", help="An existing Desk contact (or name).")
@click.option("--new-contact", metavar='"First Last <email>"', help="Add a new contact.")
@click.option("--priority", type=click.Choice(["Low", "Medium", "High", "Urgent"]),
              help="Priority (default: Medium).")
@click.option("--status", type=click.Choice(["Open", "On Hold", "Escalated", "Closed"]),
              help="Status (default: Open).")
@click.option("--due", metavar="DATE", help="YYYY-MM-DD or an ISO 8601 time.")
@click.option("--owner", metavar="EMAIL", help="An active agent.")
@click.option("--attach", "attachments", multiple=True, metavar="FILE",
              help="Attach a file (repeatable; at most 20 MB each).")
@pass_app
def create(app: App, module: str, record_id: str, subject: str, description: str | None,
           contact: str | None, new_contact: str | None, priority: str | None,
           status: str | None, due: str | None, owner: str | None,
           attachments: tuple[str, ...]) -> None:
    """Create a ticket for a CRM record."""
    ticket = _service(app).create(
        module, record_id, read_text(subject), description=read_text(description)
        if description else None, contact=contact, new_contact=new_contact,
        priority=priority, status=status, due=due, owner=owner, attachments=list(attachments))
    output.render({k: ticket[k] for k in ("id", "number", "subject", "status", "priority",
                                          "due", "owner", "contact")}
                  if app.output == "table" else ticket, app.output)
    output.message(f"Created ticket #{ticket['number']}.")


@ticket_group.command("comment")
@click.argument("ticket_id", metavar="ID")
@click.option("--text", required=True, help="- reads it from stdin.")
@click.option("--private", is_flag=True, help="Visible to agents only.")
@pass_app
def comment(app: App, ticket_id: str, text: str, private: bool) -> None:
    """Comment on a ticket (every CRM user may)."""
    output.render(_service(app).comment(ticket_id, read_text(text), private), app.output)


@ticket_group.command("reply")
@click.argument("ticket_id", metavar="ID")
@click.option("--text", required=True, help="- reads it from stdin.")
@click.option("--all", "to_all", is_flag=True, help="Reply to everyone on the ticket.")
@pass_app
def reply(app: App, ticket_id: str, text: str, to_all: bool) -> None:
    """Reply to the ticket's contact (or everyone with --all)."""
    output.render(_service(app).reply(ticket_id, read_text(text), to_all), app.output)


@ticket_group.command("forward")
@click.argument("ticket_id", metavar="ID")
@click.option("--to", "to", multiple=True, required=True, metavar="EMAIL",
              help="An address to forward to (repeatable).")
@click.option("--text", required=True, help="- reads it from stdin.")
@pass_app
def forward(app: App, ticket_id: str, to: tuple[str, ...], text: str) -> None:
    """Forward a ticket to other addresses."""
    output.render(_service(app).forward(ticket_id, list(to), read_text(text)), app.output)


@ticket_group.command("update")
@click.argument("ticket_id", metavar="ID")
@click.argument("fields", nargs=-1, required=True, metavar="FIELD=VALUE...",
                type=ASSIGNMENT)
@pass_app
def update(app: App, ticket_id: str, fields: tuple[str, ...]) -> None:
    """Update ticket fields, given as FIELD=VALUE pairs (the fields are listed below)."""
    ticket = _service(app).update(ticket_id, parse_assignments(fields))
    output.render(ticket["fields"], app.output)


@ticket_group.command("assign")
@click.argument("ticket_id", metavar="ID")
@click.option("--to", "email", required=True, metavar="EMAIL", help="An active agent.")
@pass_app
def assign(app: App, ticket_id: str, email: str) -> None:
    """Assign a ticket to another agent (Desk admins only)."""
    ticket = _service(app).assign(ticket_id, email)
    report_change(app.output, ticket, f"Ticket #{ticket['number']} is now owned by "
                  f"{ticket['owner']}.")


@ticket_group.command("close")
@click.argument("ids", nargs=-1, required=True, metavar="ID...")
@pass_app
def close(app: App, ids: tuple[str, ...]) -> None:
    """Close tickets (all ids are checked before any is closed; one whose status is
    already of type Closed, such as a portal's own "Resolved", is left as it is)."""
    output.render(_service(app).close(list(ids)), app.output)


@ticket_group.command("delete")
@click.argument("ids", nargs=-1, required=True, metavar="ID...")
@yes_option("Delete now; without it, only show what would be deleted.")
@pass_app
def delete(app: App, ids: tuple[str, ...], yes: bool) -> None:
    """Delete tickets (Desk admins only)."""
    output.render(_service(app).delete(list(ids), yes), app.output)
    if not yes:
        output.message("Nothing deleted; re-run with --yes to delete.")


@ticket_group.command("link-deal")
@click.argument("ids", nargs=-1, required=True, metavar="ID...")
@click.option("--deal", "deal_id", required=True, metavar="DEAL_ID",
              help="The CRM deal to link the tickets to.")
@pass_app
def link_deal(app: App, ids: tuple[str, ...], deal_id: str) -> None:
    """Link tickets to a deal (how support prioritises: see --sort deal-amount)."""
    output.render(_service(app).link_deal(list(ids), deal_id, True), app.output)


@ticket_group.command("unlink-deal")
@click.argument("ticket_id", metavar="ID")
@click.option("--deal", "deal_id", required=True, metavar="DEAL_ID",
              help="The CRM deal to unlink.")
@pass_app
def unlink_deal(app: App, ticket_id: str, deal_id: str) -> None:
    """Remove a ticket's link to a deal."""
    output.render(_service(app).link_deal([ticket_id], deal_id, False), app.output)
