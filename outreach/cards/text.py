"""The words on a card and its alt text, in the card's language (dates through Babel)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

from outreach.cards.model import CardError, CardSpec, normalise_language
from outreach.cards.templates import brand, load_phrases
from outreach.domain import TIME_OF_DAY_PATTERN


def supported_languages() -> tuple[str, ...]:
    return tuple(load_phrases())


def phrases_for(language: str) -> dict[str, Any]:
    code = normalise_language(language)
    phrases = load_phrases()
    if code not in phrases:
        raise CardError(f"no card phrases for language {language!r}; supported: {', '.join(phrases)}")
    return phrases[code]


def is_rtl(language: str) -> bool:
    return phrases_for(language).get("direction") == "rtl"


def format_when(spec: CardSpec) -> str:
    """`when_text` if given, else the date and time in the spec's timezone and language."""
    if spec.when_text or spec.when is None:
        return spec.when_text
    if spec.when.tzinfo is None:
        raise CardError("CardSpec.when must be timezone-aware (store UTC, show local time)")
    phrases = phrases_for(spec.language)
    local = spec.when.astimezone(ZoneInfo(spec.timezone))
    locale = phrases["locale"]
    date = format_date(local, format="full", locale=locale)
    time = format_time(local, format=TIME_OF_DAY_PATTERN, locale=locale, tzinfo=local.tzinfo)
    return phrases["datetime"].format(date=date, time=time)


def format_place(spec: CardSpec) -> str:
    if spec.venue and spec.city:
        return phrases_for(spec.language)["place"].format(venue=spec.venue, city=spec.city)
    return spec.venue or spec.city


def card_texts(spec: CardSpec) -> dict[str, str]:
    """Text per template source name; empty strings are not drawn."""
    phrases = phrases_for(spec.language)
    kicker = spec.kicker if spec.kicker is not None else phrases["kicker"].get(spec.template, "")
    has_attendance = spec.attendance is not None and spec.attendance > 0
    return {
        "kicker": kicker,
        "title": spec.title,
        "body": spec.body,
        "when": format_when(spec),
        "place": format_place(spec),
        "org": brand(spec.organisation).name,
        "attendance_number": str(spec.attendance) if has_attendance else "",
        "attendance_label": phrases["attendance_label"] if has_attendance else "",
        "quote_by": phrases["quote_by"].format(name=spec.quote_by) if spec.quote_by else "",
    }


def alt_text_for(spec: CardSpec) -> str:
    """Alt text in the card's language from the same content; `spec.alt_text` wins when set."""
    if spec.alt_text is not None:
        return spec.alt_text
    phrases = phrases_for(spec.language)
    alt = phrases["alt"]
    org = brand(spec.organisation).name
    intro = phrases["intro"].get(spec.template, phrases["intro"]["announce"]).format(org=org)
    title = spec.title.strip().rstrip(".։።") or org
    parts = [alt["card"].format(intro=intro, title=title)]
    if spec.quote_by:
        parts.append(alt["quote_by"].format(name=spec.quote_by))
    when, place = format_when(spec), format_place(spec)
    if when:
        parts.append(alt["when"].format(when=when))
    if place:
        parts.append(alt["place"].format(place=place))
    if spec.attendance:
        parts.append(alt["attendance"].format(n=spec.attendance))
    if spec.body.strip():
        parts.append(" ".join(spec.body.split()))
    return " ".join(parts)
