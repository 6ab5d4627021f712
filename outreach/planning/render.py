"""Post texts: Jinja2 templates (strict: a typo is an error), local dates per language, UTM tags."""

from __future__ import annotations

import re
import traceback
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from babel.dates import format_date, format_datetime, format_time
from jinja2 import Environment, StrictUndefined, Template, TemplateSyntaxError, pass_context
from jinja2.exceptions import TemplateError, UndefinedError
from jinja2.runtime import Context
from jinja2.utils import missing

from outreach.domain import TIME_OF_DAY_PATTERN
from outreach.planning.bounds import BoundedEnvironment, TemplateLimit, render_bounded

# Natural "weekday day month" order per language; anything else uses this default pattern.
DATE_PATTERNS: dict[str, str] = {"tr": "d MMMM EEEE", "so": "EEEE, d MMMM"}
DEFAULT_DATE_PATTERN = "EEEE d MMMM"
DEFAULT_TIME_PATTERN = TIME_OF_DAY_PATTERN


class Fields(dict[str, Any]):
    """A template variable with named fields (`meeting`, `campaign`), so typos name the object."""

    def __init__(self, label: str, data: Mapping[str, Any]) -> None:
        super().__init__(data)
        self.label = label


class _Undefined(StrictUndefined):
    @property
    def _undefined_message(self) -> str:
        obj, name = self._undefined_obj, self._undefined_name
        if isinstance(obj, Fields):
            return f"{obj.label} has no field {name!r} (fields: {', '.join(sorted(obj))})"
        if obj is missing:
            return f"unknown variable {name!r}"
        return super()._undefined_message


class RenderProblem(Exception):
    """A template that does not compile or render; `line` is the line inside the template."""

    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.message, self.line = message, line


def _locale(ctx: Context) -> str:
    return str(ctx.get("lang") or "en")


@pass_context
def _date(ctx: Context, value: date, format: str | None = None) -> str:
    """`{{ meeting.start | date }}` -> "zondag 28 maart" (nl), "28 Mart Pazar" (tr)."""
    _need_time("date", value, date)
    lang = _locale(ctx)
    pattern = format or DATE_PATTERNS.get(lang, DEFAULT_DATE_PATTERN)
    return format_date(value, pattern, locale=lang)


@pass_context
def _time(ctx: Context, value: datetime, format: str | None = None) -> str:
    """`{{ meeting.start | time }}` -> "19:30"; `time("short")` uses the language's own format."""
    _need_time("time", value, datetime)
    return format_time(value, format or DEFAULT_TIME_PATTERN, tzinfo=value.tzinfo, locale=_locale(ctx))


@pass_context
def _datetime(ctx: Context, value: datetime, format: str | None = None) -> str:
    """`{{ due | datetime("full") }}`: a Babel named format or pattern, in the value's time zone."""
    _need_time("datetime", value, datetime)
    return format_datetime(value, format or "medium", tzinfo=value.tzinfo, locale=_locale(ctx))


def _need_time(name: str, value: Any, kind: type) -> None:
    if not isinstance(value, kind):
        what = "a date or time" if kind is date else "a time"
        raise ValueError(f"`{name}` needs {what} (e.g. meeting.start), got {str(value)[:40]!r}")


def make_environment() -> Environment:
    """Sandboxed and bounded (outreach.planning.bounds): campaign texts may come from the dashboard,
    so templates cannot reach Python internals, hang, or fill the memory."""
    env = BoundedEnvironment(undefined=_Undefined, autoescape=False, keep_trailing_newline=False)
    env.globals.pop("lipsum", None)
    env.filters.update(date=_date, time=_time, datetime=_datetime)
    return env


def compile_template(env: Environment, source: str) -> Template:
    """Compile or raise RenderProblem with the template line of the syntax error."""
    try:
        return env.from_string(source)
    except TemplateSyntaxError as exc:
        raise RenderProblem(f"template syntax error: {exc.message}", exc.lineno or 1) from None


def render(template: Template, context: Mapping[str, Any]) -> str:
    """Render stripped text, or raise RenderProblem naming the unknown field or failing filter."""
    try:
        return render_bounded(template, context).strip()
    except TemplateLimit as exc:
        raise RenderProblem(str(exc), _template_line(exc)) from None
    except UndefinedError as exc:
        raise RenderProblem(f"template: {exc.message}", _template_line(exc)) from None
    except (TemplateError, TypeError, ValueError, AttributeError, IndexError, KeyError, ArithmeticError) as exc:
        raise RenderProblem(f"template: {type(exc).__name__}: {exc}", _template_line(exc)) from None


def _template_line(exc: BaseException) -> int:
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == "<template>"]
    return (lines[-1] or 1) if lines else 1


# -- UTM tagging --------------------------------------------------------------------------------

_URL = re.compile(r"https?://[^\s<>\"'«»]+")
_TRAILING = ".,;:!?)]}'\""


def tag_url(url: str, *, source: str, campaign: str, medium: str = "social") -> str:
    """Add utm_source/utm_medium/utm_campaign, keeping any query and fragment; a URL that already
    has a utm_source is left as written."""
    parts = urlsplit(url)
    if any(key == "utm_source" for key, _ in parse_qsl(parts.query, keep_blank_values=True)):
        return url
    extra = urlencode([("utm_source", source), ("utm_medium", medium), ("utm_campaign", campaign)])
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit(parts._replace(query=query))


def tag_text(text: str, *, source: str, campaign: str) -> str:
    """Tag every http(s) URL in `text`; sentence punctuation after a URL stays outside it."""

    def one(match: re.Match[str]) -> str:
        url = match.group()
        tail = ""
        while url and url[-1] in _TRAILING and not (url[-1] == ")" and url.count("(") >= url.count(")")):
            url, tail = url[:-1], url[-1] + tail
        return tag_url(url, source=source, campaign=campaign) + tail

    return _URL.sub(one, text)
