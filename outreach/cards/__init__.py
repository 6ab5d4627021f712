"""Image cards for posts: multilingual (RTL included), accessible, fitted to each platform.

Public API (everything else in this package is internal):

- `CardSpec`: frozen description of a card (template, language, texts, date, venue, organisation, ...).
- `render_card(spec, *, size, cache_dir=None) -> RenderedCard`: deterministic PNG bytes, size, alt text,
  content hash; with `cache_dir` a card rendered before from the same inputs is not redrawn.
  `size` is a `CardSize` or a size name (instagram, square, landscape, story); a connector's
  `card_size` attribute names the one its platform wants.
- `card_size_for(name) -> CardSize`.
- `cover_size(policy, width, height) -> CardSize`, `cover_policy(policy, width, height) -> ImagePolicy`: a
  video's cover drawn as a card takes the video's shape within the platform's image box (cards/cover.py).
- `prepare_image_for_platform(source, policy) -> PreparedImage`: strips EXIF/GPS and all metadata,
  fits format, dimensions and bytes to the `ImagePolicy` the platform's connector gives
  (`connector.image_policy()`). Use it for every image before upload, rendered cards and photos alike.
- `alt_text_for(spec) -> str`: alt text in the card's language from the same content (spec.alt_text wins).
- `check_text_engine()`: raises `TextEngineError` naming `libfribidi0` when Pillow cannot shape Arabic;
  call it at start-up.
- `render_to_dir(items, out_dir) -> list[Path]`: what `outreach render` writes for review.
- `missing_glyphs(text, language)`, `supported_languages()`: for campaign validation.

Templates, brands and phrases are data in `assets/` (cards/templates.toml, brands/brands.toml,
cards/phrases.toml); fonts are vendored Noto files in `assets/fonts/`. Rendering touches no database.
"""

from __future__ import annotations

from outreach.cards.cover import cover_policy, cover_size
from outreach.cards.fonts import TextEngineError, check_text_engine, missing_glyphs
from outreach.cards.media import PreparedImage, prepare_image_for_platform
from outreach.cards.model import CardError, CardSize, CardSpec, RenderedCard, card_size_for
from outreach.cards.render import check_card, render_card, render_to_dir
from outreach.cards.templates import TemplateError
from outreach.cards.text import alt_text_for, supported_languages

__all__ = [
    "CardError",
    "CardSize",
    "CardSpec",
    "PreparedImage",
    "RenderedCard",
    "TemplateError",
    "TextEngineError",
    "alt_text_for",
    "card_size_for",
    "check_text_engine",
    "cover_policy",
    "cover_size",
    "missing_glyphs",
    "prepare_image_for_platform",
    "check_card",
    "render_card",
    "render_to_dir",
    "supported_languages",
]
