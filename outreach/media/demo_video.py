"""The example campaign's meeting video: three Dutch cards (quote, announcement, look-back) over silence,
vertical 9:16 — no real people, no recorded sound. Small enough to live in the repository; this module
makes it again, byte for byte the same kind of file:

    python -m outreach.media.demo_video campaigns/video/voorjaar-2027.mp4
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from outreach.cards import CardSpec, render_card
from outreach.cards.model import CardSize
from outreach.media.slideshow import slideshow

SIZE = (540, 960)  # 9:16; YouTube makes it a Short (the pipeline fits it to each platform's own limits)
SECONDS_EACH = 2.0
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def demo_cards() -> list[CardSpec]:
    """The cards the video shows, in Dutch."""
    when = datetime(2027, 3, 12, 19, 0, tzinfo=AMSTERDAM)
    return [
        CardSpec(template="quote", language="nl", title="Samen veranderen, van binnenuit"),
        CardSpec(template="announce", language="nl", title="Praat mee over gelijkwaardigheid", organisation="IOT",
                 when=when, venue="Wijkcentrum Feijenoord", city="Rotterdam"),
        CardSpec(template="recap", language="nl", title="Tien bijeenkomsten in zes steden", attendance=240),
    ]


def write_demo_video(out_path: Path) -> Path:
    """Render the cards at the video's size and encode them over silence into `out_path`."""
    width, height = SIZE
    size = CardSize("demo-video", width, height)
    images = [render_card(spec, size=size).data for spec in demo_cards()]
    out_path.parent.mkdir(parents=True, exist_ok=True)
    return slideshow(images, out_path, seconds_each=SECONDS_EACH, size=SIZE)


if __name__ == "__main__":  # pragma: no cover - a maintainer's command
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "campaigns/video/voorjaar-2027.mp4")
    print(f"{write_demo_video(target)}: {target.stat().st_size:,} bytes")
