"""Backend registry: the built-ins plus plugins from the ``deskctl.backends`` entry points."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from deskctl.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from deskctl.backends.base import Backend
    from deskctl.config import Config

Factory = Callable[["Config"], "Backend"]


def _local(config: Config) -> Backend:
    from deskctl.backends.local import LocalBackend

    return LocalBackend(config.local_path, config.user)


def _zoho(config: Config) -> Backend:
    from deskctl import paths
    from deskctl.backends.zoho import ZohoBackend
    from deskctl.backends.zoho.auth import TokenProvider
    from deskctl.backends.zoho.settings import ZohoSettings
    from deskctl.credentials import CredentialStore

    settings = ZohoSettings.from_config(config)
    tokens = TokenProvider(settings.accounts_url, CredentialStore(config.profile),
                           paths.profile_dir(config.profile) / "zoho-token.json",
                           settings.timeout)
    backend = ZohoBackend(settings, tokens)
    if config.user:
        try:
            backend.check_acting_user(config.user)
        except UsageError as exc:
            backend.close()
            source = config.sources.get("user", "command line")
            if source == "command line":
                raise
            raise ConfigError(f"user (from {source}): {exc.message}") from None
        except BaseException:
            backend.close()
            raise
    return backend


BUILTINS: dict[str, Factory] = {"local": _local, "zoho": _zoho}


def available() -> dict[str, Any]:
    """Built-ins, then plugins (a plugin cannot shadow a built-in)."""
    from importlib.metadata import entry_points

    found: dict[str, Any] = {ep.name: ep for ep in entry_points(group="deskctl.backends")}
    found.update(BUILTINS)
    return found


def make_backend(config: Config) -> Backend:
    factories = available()
    entry = factories.get(config.backend)
    if entry is None:
        raise ConfigError(f"unknown backend {config.backend!r} (available: "
                          f"{', '.join(sorted(factories))}; from {config.sources['backend']})")
    factory = entry if callable(entry) and config.backend in BUILTINS else entry.load()
    return factory(config)
