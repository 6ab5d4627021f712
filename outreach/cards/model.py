"""What a card is made of (CardSpec), how big it is (CardSize) and what rendering returns (RenderedCard)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from outreach.errors import InputError


class CardError(InputError, ValueError):
    """A card cannot be rendered as asked (unknown language, template, organisation or size)."""


@dataclass(frozen=True, slots=True)
class CardSpec:
    """Everything a card shows. Texts are already in `language`; rendering adds no words except the
    template's kicker, the attendance label and the date (formatted with Babel for the language)."""

    template: str  # announce | reminder | recap | quote | photo (assets/cards/templates.toml)
    language: str  # nl, tr, ar, zgh (Tamazight; ber/tzm accepted), so, ti, en
    title: str
    organisation: str = "Peer"  # brand code in assets/brands/brands.toml
    body: str = ""
    when: datetime | None = None  # timezone-aware; shown in `timezone`
    when_text: str = ""  # already formatted date/time text; wins over `when`
    timezone: str = "Europe/Amsterdam"
    venue: str = ""
    city: str = ""
    attendance: int | None = None  # recap: shown when known
    quote_by: str = ""  # quote: who said it
    kicker: str | None = None  # None: the template's word in this language; "": none
    alt_text: str | None = None  # None: generated from the same content (see alt_text_for)
    photo: bytes | Path | None = None  # photo template; its metadata is never copied

    def cache_fields(self) -> dict[str, object]:
        """The spec as plain JSON-able values (the photo by its hash) for the render cache key."""
        photo = self.photo
        photo_bytes = Path(photo).read_bytes() if isinstance(photo, Path | str) else photo
        return {
            "template": self.template,
            "language": self.language,
            "title": self.title,
            "organisation": self.organisation,
            "body": self.body,
            "when": self.when.isoformat() if self.when else None,
            "when_text": self.when_text,
            "timezone": self.timezone,
            "venue": self.venue,
            "city": self.city,
            "attendance": self.attendance,
            "quote_by": self.quote_by,
            "kicker": self.kicker,
            "photo": hashlib.sha256(photo_bytes).hexdigest() if photo_bytes else None,
        }


@dataclass(frozen=True, slots=True)
class CardSize:
    name: str
    width: int
    height: int


SIZES: dict[str, CardSize] = {
    s.name: s
    for s in (
        CardSize("instagram", 1080, 1350),  # 4:5 portrait, Instagram's tallest feed ratio
        CardSize("square", 1080, 1080),
        CardSize("landscape", 1200, 675),  # 16:9 link-card shape for Facebook, LinkedIn, Bluesky, ...
        CardSize("story", 1080, 1920),  # 9:16, TikTok photo posts and stories
    )
}

def card_size_for(name: str) -> CardSize:
    """A card size by name (instagram, square, landscape, story); a connector's `card_size` names one."""
    try:
        return SIZES[name]
    except KeyError:
        raise CardError(f"unknown card size {name!r}; sizes: {', '.join(SIZES)}") from None


def resolve_size(size: CardSize | str) -> CardSize:
    return size if isinstance(size, CardSize) else card_size_for(size)


@dataclass(frozen=True, slots=True)
class RenderedCard:
    """A rendered card: PNG bytes (lossless, for review and for platforms that take PNG)."""

    data: bytes
    mime_type: str
    width: int
    height: int
    alt_text: str
    content_hash: str  # sha256 of `data`
    cache_key: str  # sha256 of the inputs (spec, size, assets, renderer version)


_LANGUAGE_ALIASES = {"ber": "zgh", "tzm": "zgh", "kab": "zgh", "shi": "zgh", "rif": "zgh"}


def normalise_language(code: str) -> str:
    """`nl-NL` -> `nl`; Tamazight codes -> `zgh` (cards write Tamazight in Tifinagh)."""
    base = code.replace("_", "-").split("-")[0].lower()
    return _LANGUAGE_ALIASES.get(base, base)
