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

from outreach.errors import InputError
from outreach.inputs import TooLarge, read_limited

Loc = tuple[str | int, ...]
_TYPE_ERRORS = {"string_type", "int_type", "int_parsing", "bool_type", "bool_parsing", "list_type",
                "dict_type", "enum", "literal_error", "model_type", "float_parsing"}

# Bounds, so an alias bomb ("billion laughs") or a runaway file is one line, not gigabytes of memory.
MAX_FILE_BYTES = 500_000  # a season is ~15 kB; all 700 meetings of five years in one file ~250 kB
MAX_VALUES = 200_000  # values after expanding aliases (&anchor / *alias)
MAX_DEPTH = 64

_INT_TAG = "tag:yaml.org,2002:int"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_PLAIN_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "seq", "map")}
_DROPPED = {"tag:yaml.org,2002:timestamp", _INT_TAG}


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe loader without timestamps and without sexagesimal integers. libyaml's parser when
    PyYAML has it: ten times faster, so a 2 MB file is read in well under a second."""


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

    def __str__(self) -> str:  # always one line, whatever the message (YAML's own errors span two)
        return " ".join(f"{self.file}:{self.line}: {self.path}: {self.message}".split())


class CampaignError(InputError):
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
    warnings: list[Problem] = field(default_factory=list)  # worth saying, but the file can be planned

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

    def warn(self, loc: Loc, message: str) -> Problem:
        found = Problem(self.file, self.line(loc), format_path(loc), f"warning: {message}")
        if found not in self.warnings:
            self.warnings.append(found)
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
        text = read_limited(path, MAX_FILE_BYTES).decode("utf-8")
    except TooLarge:
        raise CampaignError([Problem(file, 1, "(file)", f"the file is larger than {MAX_FILE_BYTES:,} bytes; "
                                     "split the campaign into several files")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CampaignError([Problem(file, 1, "(file)", f"cannot read: {reason}")]) from None
    src = Source(file=file, text=text, data=None)
    if _too_deep(text):
        src.problems.append(Problem(file, 1, "(yaml)", f"the file nests deeper than {MAX_DEPTH} levels"))
        return src
    loader = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
        if node is not None and (size := _expanded_size(node, {})) > MAX_VALUES:
            raise _TooBig(node.start_mark.line + 1, f"the file expands to more than {MAX_VALUES:,} values "
                          f"({size:,}; too many *aliases?)")
        src.data = _build(loader, node, (), src, _Count()) if node is not None else None
    except _TooBig as exc:
        src.problems.append(Problem(file, exc.line, "(yaml)", exc.message))
    except RecursionError:
        src.problems.append(Problem(file, 1, "(yaml)", f"the file nests deeper than {MAX_DEPTH} levels"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        message = " ".join(str(x) for x in (exc.context, exc.problem) if x)
        src.problems.append(Problem(file, line, "(yaml)", f"YAML syntax error: {message}"))
    except yaml.YAMLError as exc:
        src.problems.append(Problem(file, 1, "(yaml)", f"YAML error: {exc}"))
    finally:
        if loader is not None:
            loader.dispose()
    src.lines.setdefault((), 1)
    return src


_QUOTED_OR_COMMENT = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|'[^'\n]*'|#[^\n]*")
_INDENT = re.compile(r"^[ \t-]*", re.MULTILINE)


def _too_deep(text: str) -> bool:
    """Cheap scan before parsing: PyYAML's parser slows down quadratically on deep nesting."""
    depth = deepest = 0
    for bracket in re.findall(r"[][{}]", _QUOTED_OR_COMMENT.sub("", text)):
        depth = depth + 1 if bracket in "[{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    indent = max((len(m) for m in _INDENT.findall(text)), default=0)
    return deepest > MAX_DEPTH or indent > 4 * MAX_DEPTH


def _expanded_size(node: Node, memo: dict[int, int]) -> int:
    """How many values `node` becomes once every alias is expanded (each shared node counted once
    per use), computed without expanding anything."""
    if id(node) in memo:
        return memo[id(node)]
    memo[id(node)] = 1  # a recursive alias counts once instead of looping
    if isinstance(node, SequenceNode):
        size = 1 + sum(_expanded_size(child, memo) for child in node.value)
    elif isinstance(node, MappingNode):
        size = 1 + sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    else:
        size = 1
    memo[id(node)] = size
    return size


class _TooBig(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line, self.message = line, message


@dataclass
class _Count:
    values: int = 0


def _build(loader: _Loader, node: Node, loc: Loc, src: Source, count: _Count) -> Any:
    count.values += 1
    line = node.start_mark.line + 1
    if count.values > MAX_VALUES:
        raise _TooBig(line, f"the file expands to more than {MAX_VALUES:,} values (too many *aliases?)")
    if len(loc) > MAX_DEPTH:
        raise _TooBig(line, f"the file nests deeper than {MAX_DEPTH} levels")
    src.lines.setdefault(loc, line)
    if node.tag not in _PLAIN_TAGS:
        raise _TooBig(line, f"YAML tag {node.tag!r} is not allowed in a campaign file")
    if isinstance(node, ScalarNode):
        if node.style in ("|", ">"):
            src.block.add(loc)
        return loader.construct_object(node)
    if isinstance(node, SequenceNode):
        return [_build(loader, child, (*loc, i), src, count) for i, child in enumerate(node.value)]
    if isinstance(node, MappingNode):
        out: dict[Any, Any] = {}
        merged: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                for merge_node in sources:
                    value = _build(loader, merge_node, loc, src, count)
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
            out[key] = _build(loader, value_node, (*loc, key), src, count)
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
