"""Reading a campaign file: YAML with line numbers, and errors as `file:line: field.path: message`.

The YAML loader is PyYAML's safe loader minus two YAML 1.1 surprises: `18:00` stays the string
"18:00" (not the sexagesimal integer 1080) and dates stay strings, so the campaign schema parses
every date and time itself, in the campaign's time zone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Loc = tuple[str | int, ...]
_TYPE_ERRORS = {"string_type", "int_type", "int_parsing", "bool_type", "bool_parsing", "list_type",
                "dict_type", "enum", "literal_error", "model_type", "float_parsing"}

_INT_TAG = "tag:yaml.org,2002:int"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_DROPPED = {"tag:yaml.org,2002:timestamp", _INT_TAG}


class _Loader(yaml.SafeLoader):
    """Safe loader without timestamps and without sexagesimal integers."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _DROPPED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _INT_TAG,
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a campaign file, printed as one line."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.path}: {self.message}"


class CampaignError(Exception):
    """A campaign file that cannot be planned. `errors` holds one printable line per problem."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        unique = list(dict.fromkeys(problems))
        self.problems = unique
        self.errors = [str(p) for p in unique]
        count = len(unique)
        super().__init__(f"{count} error{'s' if count != 1 else ''} in campaign file:\n" + "\n".join(self.errors))


def format_path(loc: Iterable[str | int]) -> str:
    """('posts', 1, 'channels', 0) -> 'posts[1].channels[0]'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(file)"


@dataclass
class Source:
    """A parsed campaign file: plain data plus the line of every value and key in it."""

    file: str
    text: str
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)
    block: set[Loc] = field(default_factory=set)  # values written as | or > block scalars
    problems: list[Problem] = field(default_factory=list)

    def line(self, loc: Loc) -> int:
        """Line of the value at `loc`, or of its nearest ancestor that exists in the file."""
        loc = tuple(loc)
        while loc and loc not in self.lines:
            loc = loc[:-1]
        return self.lines.get(loc, 1)

    def text_line(self, loc: Loc, template_line: int = 1) -> int:
        """File line of line `template_line` of the text at `loc` (block scalars start one line down)."""
        base = self.line(loc) + (1 if tuple(loc) in self.block else 0)
        return base + max(template_line, 1) - 1

    def problem(self, loc: Loc, message: str, *, line: int | None = None) -> Problem:
        found = Problem(self.file, line or self.line(loc), format_path(loc), message)
        self.problems.append(found)
        return found

    def data_loc(self, loc: Iterable[Any]) -> Loc:
        """Keep the parts of a pydantic error location that exist in the data (drops union tags)."""
        out: list[str | int] = []
        node = self.data
        for part in loc:
            if isinstance(part, str) and part.startswith(("~", "function", "[")):
                continue  # a union tag or validator name, not a key of the file
            present = (isinstance(node, dict) and part in node) or (
                isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node))
            if present:
                node = node[part]
                out.append(part)
            elif isinstance(node, dict) and isinstance(part, str):
                out.append(part)  # a missing or extra key: name it, point at its mapping
                node = None
            else:
                break
        return tuple(out)

    def raise_if_problems(self) -> None:
        if self.problems:
            raise CampaignError(sorted(self.problems, key=lambda p: p.line))


def load_source(path: str | Path) -> Source:
    """Read and parse `path`; YAML syntax errors and duplicate keys become problems, not exceptions."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CampaignError([Problem(file, 1, "(file)", f"cannot read: {reason}")]) from None
    src = Source(file=file, text=text, data=None)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        src.data = _build(loader, node, (), src) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        message = " ".join(str(x) for x in (exc.context, exc.problem) if x)
        src.problems.append(Problem(file, line, "(yaml)", f"YAML syntax error: {message}"))
    except yaml.YAMLError as exc:
        src.problems.append(Problem(file, 1, "(yaml)", f"YAML error: {exc}"))
    finally:
        loader.dispose()
    src.lines.setdefault((), 1)
    return src


def _build(loader: _Loader, node: Node, loc: Loc, src: Source) -> Any:
    src.lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, ScalarNode):
        if node.style in ("|", ">"):
            src.block.add(loc)
        return loader.construct_object(node)
    if isinstance(node, SequenceNode):
        return [_build(loader, child, (*loc, i), src) for i, child in enumerate(node.value)]
    if isinstance(node, MappingNode):
        out: dict[Any, Any] = {}
        merged: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                for merge_node in sources:
                    value = _build(loader, merge_node, loc, src)
                    if isinstance(value, dict):
                        for k, v in value.items():
                            merged.setdefault(k, v)
                continue
            key = loader.construct_object(key_node) if isinstance(key_node, ScalarNode) else str(key_node)
            if key in out:
                src.problems.append(Problem(src.file, key_node.start_mark.line + 1, format_path((*loc, key)),
                                            f"duplicate key {key!r} (first at line {src.lines[(*loc, key)]})"))
                continue
            src.lines[(*loc, key)] = key_node.start_mark.line + 1
            out[key] = _build(loader, value_node, (*loc, key), src)
            if isinstance(value_node, ScalarNode) and value_node.style not in ("|", ">"):
                src.lines[(*loc, key)] = value_node.start_mark.line + 1  # a plain value on its own line
        for k, v in merged.items():
            out.setdefault(k, v)
        return out
    return None


def pydantic_message(err: Any) -> str:
    message = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        return "unknown field"
    if err["type"] == "missing":
        return "required field is missing"
    if err["type"] == "string_type" and isinstance(err.get("input"), dict):
        return message + " (a text that starts with {{ must be quoted: \"{{ ... }}\")"
    if err["type"] in _TYPE_ERRORS and isinstance(err.get("input"), str | int | float | bool | None):
        message += f" (got {err['input']!r})"
    return message
