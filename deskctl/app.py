"""The application object in click's ``ctx.obj``: global options, and the config, backend,
state store and credentials, each opened on first use and closed when the command ends."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from deskctl.backends.base import Backend
    from deskctl.config import Config
    from deskctl.credentials import CredentialStore
    from deskctl.state import StateStore


#: command groups that act as no CRM user, so --as is not checked for them: the sandbox acts
#: as the outside world; config, auth, completion and state concern this machine's files
NO_ACTING_USER = ("sandbox", "config", "auth", "completion", "state")


@dataclass
class App:
    config_file: str | None = None
    profile: str | None = None
    flags: dict[str, Any] = field(default_factory=dict)
    output_flag: str | None = None
    quiet: bool = False
    verbose: int = 0
    debug: bool = False

    @property
    def output(self) -> str:
        """The output format; works even when the config cannot be loaded (for errors)."""
        if self.output_flag:
            chosen = self.output_flag
        elif "config" in self.__dict__:
            chosen = self.config.output
        else:
            chosen = os.environ.get("DESKCTL_OUTPUT", "table")
        return "table" if chosen == "wide" else chosen  # output.set_wide() tells them apart

    @cached_property
    def config(self) -> Config:
        from deskctl import output
        from deskctl.config import load_config

        config = load_config(self.config_file, self.profile,
                             {**self.flags, "output": self.output_flag})
        output.set_wide(config.output == "wide")
        return config

    @cached_property
    def backend(self) -> Backend:
        from deskctl.backends import make_backend

        return make_backend(self.config)

    @cached_property
    def state(self) -> StateStore:
        from deskctl.state import StateStore

        store = StateStore(self.config.state_location, self.config.profile)
        store.lock_timeout = self.config.lock_timeout
        return store

    @cached_property
    def credentials(self) -> CredentialStore:
        from deskctl.credentials import CredentialStore

        return CredentialStore(self.config.profile)

    def preflight(self, command: str, params: dict[str, Any]) -> None:
        """What every command checks after click parsed it and before any work: the
        options' combinations, DESKCTL_NOW, and the acting user."""
        from deskctl import clock
        from deskctl.services.access import check_acting_user
        from deskctl.services.ticket_queue import check_scope

        if "module" in params and "record_id" in params:
            check_scope(params["module"], params["record_id"])
        clock.now()
        if command.split()[0] not in NO_ACTING_USER:
            check_acting_user(self.backend, self.config)

    @property
    def os_user(self) -> str:
        try:
            return getpass.getuser()
        except Exception:  # no passwd entry in some containers
            return "unknown"

    def close(self) -> None:
        if "backend" in self.__dict__:
            self.backend.close()
        if "state" in self.__dict__:
            self.state.close()


pass_app = click.make_pass_decorator(App)
