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
            return self.output_flag
        if "config" in self.__dict__:
            return self.config.output
        return os.environ.get("DESKCTL_OUTPUT", "table")

    @cached_property
    def config(self) -> Config:
        from deskctl.config import load_config

        return load_config(self.config_file, self.profile,
                           {**self.flags, "output": self.output_flag})

    @cached_property
    def backend(self) -> Backend:
        from deskctl.backends import make_backend

        return make_backend(self.config)

    @cached_property
    def state(self) -> StateStore:
        from deskctl.state import StateStore

        store = StateStore(self.config.state_path)
        store.lock_timeout = self.config.lock_timeout
        return store

    @cached_property
    def credentials(self) -> CredentialStore:
        from deskctl.credentials import CredentialStore

        return CredentialStore(self.config.profile)

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
