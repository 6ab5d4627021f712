"""A drawn cover's size (`cover_size`) and fit (`cover_policy`): the video's shape, at a 1080-pixel short
side at most, inside the platform's image box turned to the video's orientation, never padded."""

from __future__ import annotations

import pytest

from outreach.cards import cover_policy, cover_size
from outreach.connectors import platform_class
from outreach.domain import ImagePolicy

YOUTUBE = platform_class("youtube").image_policy_for()  # thumbnails: 1280x720, 2 MB
INSTAGRAM = platform_class("instagram").image_policy_for()  # 1440x1800, feed aspect 0.8-1.91
WIDE = ImagePolicy(formats=("PNG",), max_bytes=10**7, max_width=4096, max_height=4096)

CASES = [
    (YOUTUBE, (1080, 1920), (720, 1280)),  # 9:16 video: the 1280x720 box turned upright
    (YOUTUBE, (1920, 1080), (1280, 720)),
    (YOUTUBE, (540, 960), (720, 1280)),  # drawn at the box, not at the video's small size
    (YOUTUBE, (1000, 1000), (720, 720)),
    (INSTAGRAM, (1080, 1920), (1012, 1800)),  # 9:16, not padded to the feed's 4:5
    (WIDE, (1080, 1920), (1080, 1920)),  # cards are drawn at a 1080-pixel short side
    (WIDE, (1920, 1080), (1920, 1080)),
    (WIDE, (64, 112), (1080, 1890)),  # a tiny 4:7 video keeps its shape
]


@pytest.mark.parametrize(("policy", "video", "expected"), CASES)
def test_cover_takes_the_video_shape_inside_the_platform_box(policy: ImagePolicy, video: tuple[int, int],
                                                            expected: tuple[int, int]) -> None:
    size = cover_size(policy, *video)
    assert (size.width, size.height) == expected
    fit = cover_policy(policy, *video)
    assert size.width <= fit.max_width and size.height <= fit.max_height
    assert (fit.min_aspect, fit.max_aspect, fit.formats, fit.max_bytes) == (None, None, policy.formats, policy.max_bytes)
