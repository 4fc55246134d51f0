"""The command groups, registered explicitly by cli.py (one group per module)."""

from deskctl.commands.audit import audit
from deskctl.commands.auth import auth_group
from deskctl.commands.config import config_group
from deskctl.commands.sandbox import sandbox_group

GROUPS = [sandbox_group, config_group, auth_group, audit]
