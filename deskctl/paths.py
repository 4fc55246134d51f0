"""Where deskctl keeps its files: the one place that decides, with environment overrides."""

from __future__ import annotations

import os
from pathlib import Path


def config_dir() -> Path:
    """User config dir: DESKCTL_CONFIG_HOME, else $XDG_CONFIG_HOME/deskctl or ~/.config/deskctl."""
    if os.environ.get("DESKCTL_CONFIG_HOME"):
        return Path(os.environ["DESKCTL_CONFIG_HOME"])
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(Path.home(), ".config")
    return Path(base) / "deskctl"


def data_dir() -> Path:
    """User data dir: DESKCTL_HOME, else $XDG_DATA_HOME/deskctl or ~/.local/share/deskctl."""
    if os.environ.get("DESKCTL_HOME"):
        return Path(os.environ["DESKCTL_HOME"])
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(base) / "deskctl"


def profile_dir(profile: str) -> Path:
    return data_dir() / profile


def default_state_path(profile: str) -> Path:
    return profile_dir(profile) / "state.db"


def default_sandbox_path(profile: str) -> Path:
    return profile_dir(profile) / "sandbox.db"
