"""YAML loading that remembers the line of every mapping key, so errors can name it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from deskctl.errors import ConfigError


class LineDict(dict[Any, Any]):
    """A dict from YAML that knows the 1-based line of each key (``lines[key]``)."""

    lines: dict[Any, int]


def _loader() -> Any:
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def construct_mapping(loader: Any, node: Any) -> LineDict:
        loader.flatten_mapping(node)
        result = LineDict()
        result.lines = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if key in result:
                raise ConfigError(f"duplicate key {key!r} at line {key_node.start_mark.line + 1}")
            result[key] = loader.construct_object(value_node, deep=True)
            result.lines[key] = key_node.start_mark.line + 1
        return result

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    return Loader


def load(path: Path, what: str = "file") -> Any:
    """Parse ``path`` (``-``: stdin); unreadable or malformed YAML is one ConfigError naming
    file and line."""
    import yaml

    if str(path) == "-":
        path = Path("<stdin>")
        text = sys.stdin.read()
    else:
        text = _read(path, what)
    try:
        return yaml.load(text, Loader=_loader())  # noqa: S506 - a SafeLoader subclass
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc.message}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}:{where}: malformed YAML: {problem}") from None


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{what} not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"{what} {path} is a directory, not a file") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{what} {path} is not a UTF-8 text file (binary?); it must be "
                          "YAML") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror}") from None


def line_of(mapping: Any, key: str) -> str:
    lines = getattr(mapping, "lines", {})
    return f" (line {lines[key]})" if key in lines else ""
