"""YAML loading that remembers where every value came from.

Rule packs are edited by people who are not programmers, so every error must point at a
file and line. PyYAML's composed nodes carry marks; we keep the line of each mapping value
and sequence item next to the data instead of discarding them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from silkgate.errors import PolicyError


class LDict(dict[str, Any]):
    """A mapping that knows its own line and the line of each of its values."""

    line: int
    lines: dict[str, int]
    file: str


class LList(list[Any]):
    """A sequence that knows its own line and the line of each item."""

    line: int
    lines: list[int]
    file: str


class _Loader(yaml.SafeLoader):
    file = "<pack>"


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LDict:
    loader.flatten_mapping(node)
    out = LDict()
    out.line, out.lines, out.file = node.start_mark.line + 1, {}, loader.file
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, str):
            raise PolicyError(f"keys must be strings, got {key!r}", source=f"{loader.file}:{line}")
        if key in out:
            raise PolicyError(f"duplicate key {key!r}", source=f"{loader.file}:{line}")
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = line
    return out


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> LList:
    out = LList(loader.construct_object(item, deep=True) for item in node.value)
    out.line, out.file = node.start_mark.line + 1, loader.file
    out.lines = [item.start_mark.line + 1 for item in node.value]
    return out


_Loader.add_constructor("tag:yaml.org,2002:map", _mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _sequence)


def load_yaml(text: str, file: str) -> Any:
    """Parse one YAML document; syntax errors become PolicyError with file:line."""
    loader_cls = type("_FileLoader", (_Loader,), {"file": file})
    try:
        return yaml.load(text, Loader=loader_cls)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        raise PolicyError(f"YAML syntax: {exc.problem or exc}", source=f"{file}:{line}") from None
    except yaml.YAMLError as exc:  # e.g. ReaderError: a control character in the text
        raise PolicyError(f"YAML: {exc}", source=file) from None
    except RecursionError:
        raise PolicyError("YAML nested too deeply", source=file) from None


def load_yaml_file(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read rule pack: {exc.strerror}", source=str(path)) from None
    return load_yaml(text, str(path))


def where(container: Any, key: str | int | None = None) -> str:
    """`file:line` of `container[key]` (or of the container itself)."""
    file = getattr(container, "file", "<pack>")
    line = getattr(container, "line", 0)
    if isinstance(container, LDict) and isinstance(key, str):
        line = container.lines.get(key, line)
    elif isinstance(container, LList) and isinstance(key, int) and 0 <= key < len(container.lines):
        line = container.lines[key]
    return f"{file}:{line}"
