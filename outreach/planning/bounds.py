"""Bounded templates: a Jinja2 sandbox that cannot hang, eat memory or produce a novel.

Campaign texts are written by volunteers (and typed into the dashboard), so a template may count
to a billion by mistake. Every render gets a budget: ranges, loop iterations and calls, output
length, numbers and render time are capped, and going over is one `TemplateLimit` in a volunteer's
words. The caps live here, once.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from jinja2 import nodes, pass_context
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

MAX_OUTPUT_CHARS = 10_000  # longer than any platform's post (Facebook aside), and than any volunteer writes
MAX_RANGE = 10_000
MAX_STEPS = 100_000  # loop iterations plus calls, per render
MAX_RENDER_S = 2.0
MAX_NUMBER_BITS = 4096  # about 1,200 digits
_LOOP_FILTER = "_outreach_loop"
_WIDTH = re.compile(r"\d+")


class TemplateLimit(Exception):
    """A template went over one of the caps; the message says which, in a volunteer's words."""


@dataclass
class _Budget:
    deadline: float
    steps: int = 0

    def step(self, n: int = 1) -> None:
        self.steps += n
        if self.steps > MAX_STEPS:
            raise TemplateLimit(f"the template repeats more than {MAX_STEPS:,} times (a loop too many?)")
        if time.monotonic() > self.deadline:
            raise TemplateLimit(f"the template takes more than {MAX_RENDER_S:g} seconds to write")


_budget: ContextVar[_Budget | None] = ContextVar("template_budget", default=None)


def _step(n: int = 1) -> None:
    budget = _budget.get()
    if budget is not None:
        budget.step(n)


def too_long() -> TemplateLimit:
    return TemplateLimit(f"the template produces more than {MAX_OUTPUT_CHARS:,} characters")


def _check_size(value: Any) -> Any:
    if isinstance(value, str | bytes | list | tuple | dict) and len(value) > MAX_OUTPUT_CHARS:
        raise too_long()
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_NUMBER_BITS:
        raise TemplateLimit("the template computes a number too large to write")
    return value


def _check_widths(fmt: Any) -> None:
    """`'%999999999d' % 1` or `'{:999999999}'.format(1)`: a padding width longer than any post."""
    if isinstance(fmt, str) and any(int(w) > MAX_OUTPUT_CHARS for w in _WIDTH.findall(fmt)[:1000]):
        raise too_long()


def bounded_range(*args: int) -> range:
    values = range(*args)
    if len(values) > MAX_RANGE:
        raise TemplateLimit(f"the template counts to more than {MAX_RANGE:,}")
    return values


@pass_context
def _loop(_ctx: Context, iterable: Iterable[Any]) -> Iterator[Any]:
    for item in iterable:
        _step()
        yield item


def _bounded_filter(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)  # keeps jinja_pass_arg, so the filter still gets its context
    def call(*args: Any, **kwargs: Any) -> Any:
        for arg in (*args[1:], *kwargs.values()):
            if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > MAX_OUTPUT_CHARS:
                raise too_long()
        _step()
        return _check_size(func(*args, **kwargs))

    return call


class BoundedEnvironment(SandboxedEnvironment):
    """The sandbox plus caps. Arithmetic that can explode is intercepted (and so never folded at
    compile time); every `for` loop iterates through a counting filter; every call is counted."""

    intercepted_binops = frozenset({"*", "**", "%", "+", "//"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals["range"] = bounded_range
        self.filters = {name: _bounded_filter(f) for name, f in self.filters.items()}
        self.filters[_LOOP_FILTER] = _loop

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _step(0)
        numbers = isinstance(left, int | float) and isinstance(right, int | float)
        if operator == "**" and numbers and (abs(right) > 64 and abs(left) > 1 or abs(left) > 2 ** 64):
            raise TemplateLimit("the template computes a number too large to write")
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(count, int) \
                        and len(seq) * count > MAX_OUTPUT_CHARS:
                    raise too_long()
            if isinstance(left, int) and isinstance(right, int) \
                    and left.bit_length() + right.bit_length() > MAX_NUMBER_BITS:
                raise TemplateLimit("the template computes a number too large to write")
        if operator == "%":
            _check_widths(left)
        if operator == "+" and isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple) \
                and len(left) + len(right) > MAX_OUTPUT_CHARS:
            raise too_long()
        return _check_size(super().call_binop(context, operator, left, right))

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        _step()
        if getattr(__obj, "__name__", "") in ("format", "format_map") and isinstance(
                getattr(__obj, "__self__", None), str):
            _check_widths(__obj.__self__)
        for arg in (*args, *kwargs.values()):
            if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > MAX_OUTPUT_CHARS \
                    and __obj is not bounded_range:
                raise too_long()
        return _check_size(super().call(__context, __obj, *args, **kwargs))

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, _LOOP_FILTER, [], [], None, None, lineno=loop.lineno)
        for concat in list(tree.find_all(nodes.Concat)):
            concat.nodes = [nodes.Filter(n, "string", [], [], None, None, lineno=concat.lineno)
                            for n in concat.nodes]
        return tree


def render_bounded(template: Any, context: Any) -> str:
    """Render within the budget; raises TemplateLimit (or the template's own error)."""
    token = _budget.set(_Budget(deadline=time.monotonic() + MAX_RENDER_S))
    try:
        out: list[str] = []
        size = 0
        for chunk in template.generate(context):
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                raise too_long()
            out.append(chunk)
        return "".join(out)
    except RecursionError:
        raise TemplateLimit("the template calls itself without end") from None
    finally:
        _budget.reset(token)
