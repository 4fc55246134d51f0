"""The command groups, by name: module, attribute and one-line summary. cli.py loads a
group only when it runs, so `deskctl --help` and `--version` import none of them; a test
keeps each summary equal to its command's own."""

COMMANDS: dict[str, tuple[str, str, str]] = {
    "portal": ("deskctl.commands.portal", "portal_group",
               "Link the Desk portal the CRM integrates with (one at a time; admin only)."),
    "integration": ("deskctl.commands.integration", "integration_group",
                    "The integration as a whole: status, deactivate, re-authorise."),
    "users": ("deskctl.commands.users", "users_group", "CRM users and their Desk accounts."),
    "sync": ("deskctl.commands.sync", "sync_group",
             "Keep CRM Accounts and Contacts in sync with Desk (one-way or both ways)."),
    "ticket": ("deskctl.commands.ticket", "ticket_group",
               "Tickets: list, show, create, comment, reply, forward, update, close, deal "
               "links."),
    "stats": ("deskctl.commands.stats", "stats",
              "Total and overdue tickets, average first response and resolution times, "
              "ratings."),
    "related-list": ("deskctl.commands.related_list", "related_list_group",
                     "Choose the CRM modules whose records show their tickets (admin only)."),
    "signals": ("deskctl.commands.signals", "signals_group",
                "SalesSignals: notifications about tickets of leads, contacts and prospects."),
    "tab": ("deskctl.commands.tab", "tab_group",
            "The CRM's Desk tab, shown only to users with an active Desk account (admin "
            "only)."),
    "plan": ("deskctl.commands.declarative", "plan", "Show what apply would change; changes "
             "nothing."),
    "apply": ("deskctl.commands.declarative", "apply",
              "Make the integration match the file (admin only; idempotent)."),
    "sandbox": ("deskctl.commands.sandbox", "sandbox_group",
                "Fill and inspect the embedded CRM and Desk, and act as the outside world."),
    "config": ("deskctl.commands.config", "config_group",
               "Show or create the configuration file."),
    "auth": ("deskctl.commands.auth", "auth_group",
             "Manage credentials in the OS keyring (environment variables as a fallback)."),
    "state": ("deskctl.commands.state", "state_group",
              "Check the state store, or move it to another file or PostgreSQL database."),
    "audit": ("deskctl.commands.audit", "audit",
              "List the changes deskctl made: who, what, when (newest first)."),
    "completion": ("deskctl.commands.completion", "completion",
                   "Print the shell completion script for bash, zsh or fish."),
}
