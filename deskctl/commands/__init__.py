"""The command groups, registered explicitly by cli.py (one group per module)."""

from deskctl.commands.audit import audit
from deskctl.commands.auth import auth_group
from deskctl.commands.config import config_group
from deskctl.commands.declarative import apply, plan
from deskctl.commands.integration import integration_group
from deskctl.commands.portal import portal_group
from deskctl.commands.related_list import related_list_group
from deskctl.commands.sandbox import sandbox_group
from deskctl.commands.signals import signals_group
from deskctl.commands.stats import stats
from deskctl.commands.sync import sync_group
from deskctl.commands.tab import tab_group
from deskctl.commands.ticket import ticket_group
from deskctl.commands.users import users_group

GROUPS = [portal_group, integration_group, users_group, sync_group, ticket_group, stats,
          related_list_group, signals_group, tab_group, sandbox_group, config_group,
          auth_group, audit, plan, apply]
