"""Card render time per card next to a bare Pillow draw-and-save of the same size.

    .venv/bin/python bench/bench_cards.py [--rounds N]

The baseline fills a canvas, draws one line of text with the same font and saves a PNG with Pillow's
defaults: the least any card costs. Goal: <= 40 ms per card on the project machine (2 shared cores).
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image, ImageDraw  # noqa: E402

from outreach.cards import CardSpec, card_size_for, render_card  # noqa: E402
from outreach.cards.fonts import Face, Weight, font  # noqa: E402

TEXTS = {
    "nl": "Samen in gesprek over gelijkwaardigheid en acceptatie",
    "ar": "حوار مفتوح حول المساواة والقبول في Buurthuis De Pijp",
    "ti": "ዘተ ብዛዕባ ማዕርነትን ተቐባልነትን",
    "zgh": "ⴰⵎⵙⴰⵡⴰⵍ ⵅⴼ ⵜⴰⵏⵎⵉⵔⵜ ⴷ ⵓⵙⵏⵓⵎⵎⵔ",
}
TEMPLATES = ("announce", "reminder", "recap", "quote", "photo")
SIZES = ("instagram", "landscape", "story")


def bare_pillow(width: int, height: int) -> bytes:
    image = Image.new("RGB", (width, height), (30, 27, 75))
    ImageDraw.Draw(image).text(
        (80, 200), "Samen in gesprek", fill=(255, 255, 255), font=font(Face.LATIN, Weight.BOLD, 80)
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def spec(template: str, language: str, n: int) -> CardSpec:
    # A unique body per call so no layer of caching can answer instead of rendering.
    return CardSpec(
        template=template,
        language=language,
        title=TEXTS[language],
        organisation="Peer",
        body=f"{TEXTS[language]} {n}",
        when=datetime(2025, 6, 14, 12, tzinfo=UTC),
        venue="Buurthuis De Pijp",
        city="Amsterdam",
        attendance=40 + n % 9,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv or [])
    render_card(spec("announce", "ar", -1), size="instagram")  # load fonts and templates once
    print(f"{'size':<10} {'card ms':>8} {'bare ms':>8} {'ratio':>6}")
    counter = 0
    all_cards: list[float] = []
    for size_name in SIZES:
        size = card_size_for(size_name)
        cards, bare = [], []
        for _ in range(args.rounds):
            for template in TEMPLATES:
                for language in TEXTS:
                    counter += 1
                    start = time.perf_counter()
                    render_card(spec(template, language, counter), size=size)
                    cards.append(time.perf_counter() - start)
                    start = time.perf_counter()
                    bare_pillow(size.width, size.height)
                    bare.append(time.perf_counter() - start)
        card_ms, bare_ms = statistics.median(cards) * 1000, statistics.median(bare) * 1000
        all_cards.extend(cards)
        print(f"{size_name:<10} {card_ms:8.1f} {bare_ms:8.1f} {card_ms / bare_ms:6.2f}")
    median = statistics.median(all_cards) * 1000
    print(
        f"median card: {median:.1f} ms ({len(all_cards)} cards; goal <= 40 ms: {'met' if median <= 40 else 'not met'})"
    )


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
