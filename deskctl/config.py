"""Configuration: find the YAML file, pick the profile, apply DESKCTL_* overrides, validate.

Precedence per key: command-line flag > environment variable > profile section > top level
of the file > built-in default. Every problem is collected and reported at once, naming the
key and the file. This module reads files but never writes state.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deskctl import paths
from deskctl.errors import ConfigError, UsageError
from deskctl.yamlfile import line_of

OUTPUT_FORMATS = ("table", "wide", "json", "yaml")
SECRET_WORDS = re.compile(r"secret|token|password|zsc|api_?key", re.IGNORECASE)


@dataclass(frozen=True)
class Key:
    """One config key: dotted name, type, default and the line config.example.yaml shows."""

    name: str
    type: str  # str | int | float | bool | path | choice | list | mapping
    default: Any
    help: str
    choices: tuple[str, ...] = ()

    @property
    def env(self) -> str:
        return "DESKCTL_" + self.name.upper().replace(".", "_")


KEYS: tuple[Key, ...] = (
    Key("backend", "str", "local", "backend to use: local (embedded sandbox) or a plugin"),
    Key("user", "str", None, "acting user's email on the local backend (like --as)"),
    Key("output", "choice", "table", "default output format", OUTPUT_FORMATS),
    Key("state", "path", None, "state file (default: <data dir>/<profile>/state.db), or a "
        "shared database: postgresql://user@host:5432/dbname[?sslmode=require]"),
    Key("lock_timeout", "float", 0.0,
        "seconds a state change (sync run, apply, portal switch ...) waits for the run lock"),
    Key("local.path", "path", None,
        "local backend's sandbox file (default: <data dir>/<profile>/sandbox.db)"),
    Key("zoho.data_center", "choice", "com", "Zoho data center of the org",
        ("com", "eu", "in", "com.au", "jp", "ca", "sa", "com.cn", "uk")),
    Key("zoho.crm_url", "str", None, "override the CRM API host (http only for loopback)"),
    Key("zoho.desk_url", "str", None, "override the Desk API host (http only for loopback)"),
    Key("zoho.accounts_url", "str", None, "override the OAuth accounts server"),
    Key("zoho.edition", "choice", None, "Desk edition, for its concurrent-call limit",
        ("free", "express", "standard", "professional", "enterprise")),
    Key("zoho.concurrency", "int", None,
        "Desk calls in flight per portal, all pools together (default and ceiling: the "
        "edition's limit less the headroom)"),
    Key("zoho.concurrency_headroom", "int", 2,
        "Desk concurrent calls left free for Zoho's own CRM-Desk sync and extensions"),
    # what a CRM write's `trigger` may name (crm-oas v8 record.json Body_Wrapper.trigger;
    # zoho.com/crm/developer/docs/api/v8/insert-records.html)
    Key("zoho.crm_triggers", "list", (),
        "CRM automation a sync's CRM writes may fire (default none)",
        ("workflow", "approval", "blueprint", "pathfinder", "orchestration")),
    Key("zoho.timeout", "float", 30.0, "seconds per HTTP request"),
    Key("zoho.deal_link_field", "str", "cf_deal_ids",
        "Desk ticket custom field that holds linked deal ids"),
    Key("desk.from_address", "str", None,
        "From address of ticket replies and forwards; must be one of the ticket department's "
        "From addresses (default: the department's first active one)"),
    Key("sync.mapping", "mapping", None,
        "field mapping per module: {Accounts|Contacts: {CRM_Field: deskField}}"),
    Key("sync.overlap_seconds", "int", 5,
        "incremental reads start this many seconds before the cursor"),
)
KEY_BY_NAME = {key.name: key for key in KEYS}
SECTIONS = {key.name.split(".")[0] for key in KEYS if "." in key.name}
FILE_ONLY = {"profiles", "default_profile"}


@dataclass(frozen=True)
class Config:
    """Resolved settings with where each came from (for ``config show``)."""

    profile: str
    path: Path | None
    values: Mapping[str, Any]
    sources: Mapping[str, str]
    profiles: tuple[str, ...] = ("default",)

    def get(self, name: str) -> Any:
        return self.values[name]

    @property
    def backend(self) -> str:
        return str(self.values["backend"])

    @property
    def user(self) -> str | None:
        return self.values["user"]

    @property
    def output(self) -> str:
        return str(self.values["output"])

    @property
    def lock_timeout(self) -> float:
        return float(self.values["lock_timeout"])

    @property
    def state_path(self) -> Path:
        return Path(self.values["state"])

    @property
    def state_location(self) -> str:
        """The state file's path or the PostgreSQL URL (without a password: refused)."""
        return str(self.values["state"])

    @property
    def local_path(self) -> Path:
        return Path(self.values["local.path"])


def find_config_file(flag: str | None) -> Path | None:
    """The config file by SPEC §10's lookup order: --config, DESKCTL_CONFIG, ./deskctl.yaml,
    the user config dir."""
    if flag:
        return Path(flag)
    if os.environ.get("DESKCTL_CONFIG"):
        return Path(os.environ["DESKCTL_CONFIG"])
    for candidate in (Path("deskctl.yaml"), paths.config_dir() / "config.yaml"):
        if candidate.is_file():
            return candidate
    return None


def _coerce(key: Key, value: Any, from_env: bool) -> Any:
    """Convert ``value`` to the key's type or raise ValueError with the reason."""
    if value is None:
        return None
    if key.type in ("str", "path"):
        if isinstance(value, (dict, list, bool)):
            raise ValueError(f"expected a string, got {type(value).__name__}")
        text = str(value)
        if key.name == "state" and text.startswith(("postgresql://", "postgres://")):
            from deskctl.state.postgres import check_url

            check_url(text)
            return text
        return os.path.expanduser(text) if key.type == "path" else text
    if key.type == "choice":
        if str(value) not in key.choices:
            raise ValueError(f"expected one of {', '.join(key.choices)}, got {value!r}")
        return str(value)
    if key.type == "bool":
        if isinstance(value, bool):
            return value
        if from_env and str(value).lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return str(value).lower() in ("1", "true", "yes", "on")
        raise ValueError(f"expected true or false, got {value!r}")
    if key.type in ("int", "float"):
        if isinstance(value, (bool, dict, list)):
            raise ValueError(f"expected a number, got {value!r}")
        try:
            number = int(value) if key.type == "int" else float(value)
        except (TypeError, ValueError):
            raise ValueError(f"expected a number, got {value!r}") from None
        if number < 0:
            raise ValueError(f"must not be negative, got {value!r}")
        return number
    if key.type == "list":  # of choices; the environment gives it comma-separated
        items = [v.strip() for v in value.split(",") if v.strip()] \
            if from_env and isinstance(value, str) else value
        if not isinstance(items, (list, tuple)) or not all(isinstance(v, str) for v in items):
            raise ValueError(f"expected a list of names, got {value!r}")
        wrong = [v for v in items if key.choices and v not in key.choices]
        if wrong:
            raise ValueError(f"expected names from {', '.join(key.choices)}, got "
                             f"{', '.join(map(repr, wrong))}")
        return tuple(items)
    if key.type == "mapping":
        if from_env and isinstance(value, str):
            import yaml

            try:
                value = yaml.safe_load(value)
            except yaml.YAMLError:
                raise ValueError("expected a YAML mapping") from None
        if not isinstance(value, Mapping):
            raise ValueError(f"expected a mapping, got {type(value).__name__}")
        return value
    raise AssertionError(key.type)


def _flatten(section: Mapping[str, Any], where: str, file: Path,
             problems: list[str]) -> dict[str, tuple[Any, str]]:
    """Known keys of one file section as {dotted name: (value, source)}; unknowns go to problems."""
    found: dict[str, tuple[Any, str]] = {}
    for name, value in section.items():
        label = f"{where}{name}"
        if not isinstance(name, str):
            problems.append(f"{file}: key {name!r} is not a string")
        elif SECRET_WORDS.search(name):
            problems.append(f"{file}: {label}{line_of(section, name)}: secrets do not belong in "
                            "the config file; use 'deskctl auth set' or an environment variable")
        elif name in SECTIONS:
            if not isinstance(value, Mapping):
                problems.append(f"{file}: {label}{line_of(section, name)}: expected a mapping")
                continue
            for sub, sub_value in value.items():
                dotted = f"{name}.{sub}"
                if dotted in KEY_BY_NAME:
                    found[dotted] = (sub_value, f"{file} ({where}{dotted})")
                else:
                    problems.append(f"{file}: unknown key {where}{dotted}{line_of(value, sub)}")
        elif name in KEY_BY_NAME:
            found[name] = (value, f"{file} ({label})")
        elif not (where == "" and name in FILE_ONLY):
            problems.append(f"{file}: unknown key {label}{line_of(section, name)}")
    return found


def load_config(config_flag: str | None = None, profile_flag: str | None = None,
                flags: Mapping[str, Any] | None = None) -> Config:
    """Resolve the configuration; raise ConfigError listing every problem at once."""
    from deskctl import yamlfile

    path = find_config_file(config_flag)
    data: Any = {}
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        data = yamlfile.load(path, "config file")
        if data is None:
            data = {}
    problems: list[str] = []
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path}: the top level must be a mapping of keys")

    profiles = data.get("profiles") or {}
    if not isinstance(profiles, Mapping):
        problems.append(f"{path}: profiles{line_of(data, 'profiles')}: expected a mapping")
        profiles = {}
    profile = (profile_flag or os.environ.get("DESKCTL_PROFILE")
               or data.get("default_profile") or "default")
    if not isinstance(profile, str):
        raise ConfigError(f"{path}: default_profile: expected a string")
    available = ("default", *[p for p in profiles if p != "default"])
    if profile not in available:
        raise ConfigError(f"unknown profile {profile!r} (available: {', '.join(available)})"
                          + (f" in {path}" if path else "; no config file found"))

    layered: dict[str, tuple[Any, str]] = {}
    if path is not None:
        layered.update(_flatten(data, "", path, problems))
        section = profiles.get(profile) or {}
        if not isinstance(section, Mapping):
            problems.append(f"{path}: profiles.{profile}: expected a mapping")
        else:
            layered.update(_flatten(section, f"profiles.{profile}.", path, problems))

    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key in KEYS:
        raw, source, from_env = key.default, "default", False
        if key.name in layered:
            raw, source = layered[key.name]
        if os.environ.get(key.env) not in (None, ""):
            raw, source, from_env = os.environ[key.env], f"env {key.env}", True
        flag_value = (flags or {}).get(key.name)
        if flag_value is not None:
            raw, source = flag_value, "command line"
        try:
            values[key.name] = _coerce(key, raw, from_env)
        except ValueError as exc:
            if source == "command line":
                raise UsageError(f"invalid value for {key.name}: {exc}") from None
            problems.append(f"{source}: {exc}")
        sources[key.name] = source
    if problems:
        raise ConfigError("invalid configuration", problems)
    values["state"] = values["state"] or str(paths.default_state_path(profile))
    values["local.path"] = values["local.path"] or str(paths.default_sandbox_path(profile))
    return Config(profile=profile, path=path, values=values, sources=sources,
                  profiles=tuple(available))


def mask(name: str, value: Any) -> Any:
    return "********" if value and SECRET_WORDS.search(name) else value


STARTER = """\
# deskctl configuration. Every key: config.example.yaml. Secrets never go here:
# use 'deskctl auth set' (OS keyring) or environment variables.
backend: local
# user: admin@example.com      # acting user on the local backend (like --as)
output: table
"""


def init_config(path: Path | None, force: bool) -> Path:
    """Write a starter config; refuse to overwrite an existing file without ``force``."""
    target = path or paths.config_dir() / "config.yaml"
    if target.exists() and not force:
        raise ConfigError(f"{target} already exists (use --force to overwrite)")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(STARTER, encoding="utf-8")
    return target
