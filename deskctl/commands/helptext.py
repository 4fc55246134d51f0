"""Help epilogs (shown by --help and in docs/cli.md): examples for every leaf command, and
the fields `ticket update` accepts.

Kept in one place, keyed by the command's path, so they read as one consistent set; cli.py
attaches them when a group loads (a command that sets its own epilog keeps it). A test
parses every example against the command tree, so they cannot drift from the options.
A long example continues on the next line after " \\".
"""

from __future__ import annotations

CRM_ID = "5725767000000000041"
DEAL_ID = "5725767000000000061"
TICKET = "206833000000000183"

EXAMPLES: dict[str, tuple[str, ...]] = {
    "portal list": ("deskctl portal list", "deskctl portal list -o json"),
    "portal connect": ("deskctl portal connect acme-support",),
    "portal create": ("deskctl portal create my-helpdesk",),
    "portal connect-other": (
        "printf '%s' \"$ZSC_KEY\" | deskctl portal connect-other \\\n"
        "    --admin-email helen@globex.example --zsc-key-stdin",),
    "portal switch": ("deskctl portal switch acme-labs          # shows what it unlinks",
                      "deskctl portal switch acme-labs --yes"),
    "integration status": ("deskctl integration status", "deskctl integration status -o json"),
    "integration deactivate": ("deskctl integration deactivate          # shows what happens",
                               "deskctl integration deactivate --yes"),
    "integration reauth": ("deskctl --as new.admin@acme.example integration reauth",
                           "printf '%s' \"$ZSC_KEY\" | deskctl integration reauth "
                           "--zsc-key-stdin"),
    "users list": ("deskctl users list", "deskctl users list -o json"),
    "users invite": ("deskctl users invite sam.sales@acme.example --role agent",
                     "deskctl users invite lena@acme.example priya@acme.example --role "
                     "light-agent"),
    "users set-role": ("deskctl users set-role lena@acme.example --role admin",
                       "deskctl users set-role admin@acme.example --role agent --force"),
    "sync configure": ("deskctl sync configure --mode bidirectional --conflict newest",
                       "deskctl sync configure --mode one-way --on-delete propagate"),
    "sync run": ("deskctl sync run --dry-run                # the plan; changes nothing",
                 "deskctl sync run --lock-timeout 60       # from cron",
                 "deskctl sync run --module Contacts --full --max-delete 5%"),
    "sync pause": ("deskctl sync pause",),
    "sync resume": ("deskctl sync resume",),
    "sync status": ("deskctl sync status", "deskctl sync status -o json"),
    "sync errors": ("deskctl sync errors --limit 20",
                    "deskctl sync errors --module Contacts -o json"),
    "sync conflicts": ("deskctl sync conflicts", "deskctl sync conflicts -o yaml"),
    "sync resolve": ("deskctl sync resolve 3 --take crm",
                     "deskctl sync resolve 3 --field Phone --take desk"),
    "sync link": (f"deskctl sync link {CRM_ID} 482016000000152007",
                  "deskctl sync link 5725767000000230101 482016000000150011 --module Accounts"),
    "sync ignore": ("deskctl sync ignore 482016000000152007",
                    "deskctl sync ignore 5725767000000230101 --module Accounts",
                    "deskctl sync ignore 482016000000152007 --undo"),
    "ticket list": ("deskctl ticket list --view overdue --sort deal-amount --limit 20",
                    f"deskctl ticket list --module Contacts --record {CRM_ID}"),
    "ticket show": (f"deskctl ticket show {TICKET}", f"deskctl ticket show {TICKET} -o json"),
    "ticket history": (f"deskctl ticket history {TICKET}",
                       f"deskctl ticket history {TICKET} -o json"),
    "ticket create": (
        f"deskctl ticket create --module Contacts --record {CRM_ID} \\\n"
        "    --subject \"Invoice question\"",
        f"deskctl ticket create --module Accounts --record {CRM_ID} --subject Outage \\\n"
        "    --new-contact \"Ann Other <ann@other.example>\" --priority Urgent \\\n"
        "    --due 2026-12-01 --attach screenshot.png"),
    "ticket comment": (f"deskctl ticket comment {TICKET} --text \"Called the customer.\" "
                       "--private",),
    "ticket reply": (f"deskctl ticket reply {TICKET} --text \"Fixed, thanks for waiting.\"",
                     f"deskctl ticket reply {TICKET} --text - --all < answer.txt"),
    "ticket forward": (f"deskctl ticket forward {TICKET} --to boss@acme.example --text FYI",),
    "ticket update": (f"deskctl ticket update {TICKET} status=\"On Hold\" priority=Low",
                      f"deskctl ticket update {TICKET} due=2026-12-24 category=Billing"),
    "ticket assign": (f"deskctl ticket assign {TICKET} --to omar@acme.example",),
    "ticket close": (f"deskctl ticket close {TICKET} 206833000000000185",),
    "ticket delete": (f"deskctl ticket delete {TICKET}          # shows what would go",
                      f"deskctl ticket delete {TICKET} --yes"),
    "ticket link-deal": (f"deskctl ticket link-deal {TICKET} 206833000000000185 --deal "
                         f"{DEAL_ID}",),
    "ticket unlink-deal": (f"deskctl ticket unlink-deal {TICKET} --deal {DEAL_ID}",),
    "stats": ("deskctl stats", f"deskctl stats --module Accounts --record {CRM_ID} -o json"),
    "related-list list": ("deskctl related-list list",),
    "related-list enable": ("deskctl related-list enable Partners",),
    "related-list disable": ("deskctl related-list disable Deals",),
    "signals configure": ("deskctl signals configure --disable new-rating --enable "
                          "ticket-overdue",),
    "signals list": ("deskctl signals list --since 2026-11-01",
                     f"deskctl signals list --module Contacts --record {CRM_ID} -o json"),
    "signals watch": ("deskctl signals watch >> signals.jsonl     # from cron",
                      "deskctl signals watch --follow --interval 60"),
    "tab status": ("deskctl tab status",),
    "tab remove": ("deskctl tab remove",),
    "tab restore": ("deskctl tab restore",),
    "plan": ("deskctl plan -f integration.yaml",
             "deskctl plan -f integration.yaml --detailed-exitcode -o json   # in CI",
             "envsubst < integration.yaml.in | deskctl plan -f -"),
    "apply": ("deskctl apply -f integration.yaml --yes",),
    "sandbox seed": ("deskctl sandbox seed --random-seed 7",
                     "deskctl sandbox seed --contacts 20000 --accounts 2000 --tickets 0",
                     "deskctl sandbox seed --messy            # 1 contact in 7 shares an email"),
    "sandbox reset": ("deskctl sandbox reset                    # asks first",
                      "deskctl sandbox reset --yes              # in scripts"),
    "sandbox info": ("deskctl sandbox info", "deskctl sandbox info -o json"),
    "sandbox outbox": ("deskctl sandbox outbox --limit 5",),
    "sandbox serve": ("deskctl sandbox serve --port 8765",
                      "deskctl sandbox serve --port 0 --latency-ms 200 --error-rate 0.05 "
                      "--rate-limit 10/s",
                      "deskctl sandbox serve --daily-limit 500   # rehearse exit 7 in cron",
                      "deskctl sandbox serve --lost-create-rate 0.1  # creates done, answers "
                      "lost"),
    "sandbox accept": ("deskctl sandbox accept sam.sales@acme.example",
                       "deskctl sandbox accept helen@globex.example --portal globex-help"),
    "sandbox crm list": ("deskctl sandbox crm list Contacts --limit 5",),
    "sandbox crm create": ("deskctl sandbox crm create Contacts Last_Name=Doe "
                           "Email=jane@doe.example",),
    "sandbox crm update": (f"deskctl sandbox crm update Contacts {CRM_ID} Phone=\"+49 30 1234\"",
                           f"deskctl sandbox crm update Contacts {CRM_ID} Mobile=   # empties"),
    "sandbox crm delete": (f"deskctl sandbox crm delete Contacts {CRM_ID}",),
    "sandbox desk list": ("deskctl sandbox desk list tickets --limit 5",
                          "deskctl sandbox desk list contacts --portal acme-labs"),
    "sandbox desk create": ("deskctl sandbox desk create contacts lastName=Roe "
                            "email=kim@roe.example",),
    "sandbox desk update": (f"deskctl sandbox desk update tickets {TICKET} status=Escalated",),
    "sandbox desk delete": ("deskctl sandbox desk delete contacts 206833000000000097",),
    "sandbox customer reply": (f"deskctl sandbox customer reply {TICKET} --text \"Any news?\"",),
    "sandbox customer comment": (f"deskctl sandbox customer comment {TICKET} --text "
                                 "\"Still broken.\"",),
    "sandbox customer rate": (f"deskctl sandbox customer rate {TICKET} good",),
    "config show": ("deskctl config show", "deskctl --profile acme config show -o json"),
    "config init": ("deskctl config init", "deskctl config init --path ./deskctl.yaml --force"),
    "auth set": ("deskctl auth set zoho_refresh_token          # prompts without echo",
                 "printf '%s' \"$TOKEN\" | deskctl auth set zoho_refresh_token --stdin"),
    "auth status": ("deskctl auth status", "deskctl --profile prod auth status -o json"),
    "auth clear": ("deskctl auth clear zoho_refresh_token",),
    "auth scopes": ("deskctl auth scopes", "deskctl auth scopes -o json"),
    "state check": ("deskctl state check", "deskctl state check -o json | jq .tables"),
    "state migrate": (
        "deskctl state migrate --to postgresql://deskctl@db.internal:5432/deskctl",
        "DESKCTL_STATE=postgresql://deskctl@db.internal:5432/deskctl \\\n"
        "    deskctl state migrate --to ~/.local/share/deskctl/default/state.db --force"),
    "audit": ("deskctl audit --limit 20",
              "deskctl audit -o json | jq '.[] | select(.action == \"portal.connect\")'"),
}


KINDS = {"textarea": "text", "email": "an email address", "phone": "a phone number"}


def ticket_fields() -> str:
    """The updatable ticket fields with their values, from the Desk field metadata both
    backends check writes against (static, so --help needs no credentials or network)."""
    from deskctl.backends.desk_fields import DESK_KINDS_META
    from deskctl.services.tickets import FIELD_ALIASES

    aliases = {field: alias for alias, field in FIELD_ALIASES.items()}
    values = {"contactId": "a Desk contact's id, email or name",
              "assigneeId": "an agent's email or id (Desk admins only)",
              "departmentId": "a department id",
              "dueDate": "YYYY-MM-DD or an ISO 8601 time"}
    rows = []
    for field in DESK_KINDS_META["tickets"].fields:
        if field.read_only or field.custom:
            continue
        name = f"{field.api_name}, {aliases[field.api_name]}" \
            if field.api_name in aliases else field.api_name
        text = values.get(field.api_name) or " | ".join(field.choices) or \
            KINDS.get(field.type, field.type)
        rows.append(f"  {name:<22} {text}{'; required' if field.required else ''}")
    return ("\b\nFields (Zoho Desk's standard ticket fields; FIELD= empties one):\n"
            + "\n".join(rows) + "\n\nThe values listed are Zoho Desk's defaults, as in the "
            "sandbox; on the zoho backend a portal's own picklist values and custom fields "
            "(cf_...) work too, checked against the portal's layout when updating.")


def epilog(path: str) -> str | None:
    """The epilog of the command at ``path`` ("sync run"), or None when it has no examples."""
    examples = EXAMPLES.get(path)
    if not examples:
        return None
    lines = [f"  {line}" for example in examples for line in example.split("\n")]
    text = "\b\nExamples:\n" + "\n".join(lines)
    return f"{ticket_fields()}\n\n{text}" if path == "ticket update" else text
