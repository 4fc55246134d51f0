"""The one source of "now": DESKCTL_NOW (ISO 8601) when set, else the system clock, in UTC."""

from __future__ import annotations

import os
from datetime import datetime, timezone

from deskctl.errors import ConfigError


def parse_time(text: str) -> datetime:
    """Parse ISO 8601; a time without zone is taken as UTC. ``Z`` is accepted."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"not an ISO 8601 time: {text!r}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def now() -> datetime:
    fixed = os.environ.get("DESKCTL_NOW")
    if fixed:
        try:
            return parse_time(fixed)
        except ConfigError:
            raise ConfigError(f"DESKCTL_NOW is not an ISO 8601 time: {fixed!r}") from None
    return datetime.now(timezone.utc).replace(microsecond=0)


def iso(value: datetime) -> str:
    """ISO 8601 UTC with seconds and a trailing Z, the shape Zoho uses."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_iso() -> str:
    return iso(now())
