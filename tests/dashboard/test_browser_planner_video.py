"""The planner's video in a real browser: a volunteer uploads a clip too short for Instagram, the limit is said in
Dutch with Dutch numbers and Save is off; in English the same in English. Screenshots go to artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from outreach.media.synthetic import write_clip
from tests.dashboard.browser import ARTIFACTS, chromium, log_in, open_page, serve, wait_idle
from tests.dashboard.conftest import Seeded
from tests.dashboard.test_planner_video import with_instagram_and_videos

pytestmark = pytest.mark.browser


@pytest.fixture
def video_dashboard(seeded: Seeded, tmp_path: Path) -> Iterator[str]:
    with_instagram_and_videos(seeded, tmp_path / "videos")
    with serve(seeded.config) as url:
        yield url


def test_an_uploaded_video_too_short_for_instagram_is_said_in_dutch_then_english(video_dashboard: str,
                                                                                   tmp_path: Path) -> None:
    from playwright.sync_api import expect

    clip = write_clip(tmp_path / "kort.mp4", seconds=2.0)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with chromium("planner-video") as browser:
        page = open_page(browser, height=2200)
        log_in(page, video_dashboard)
        page.get_by_test_id("stSidebarNav").get_by_text("Post maken", exact=True).click()
        page.get_by_role("heading", name="Post maken", exact=True, level=1).wait_for()
        wait_idle(page)
        channels = page.get_by_test_id("stMultiSelect").filter(has_text="Kanalen")
        channels.get_by_role("combobox").click()
        page.get_by_role("option", name="peer-instagram", exact=True).click()
        page.keyboard.press("Escape")
        wait_idle(page)
        page.locator('input[type="file"]').first.set_input_files(str(clip))
        message = page.get_by_text("Te kort voor Instagram: 2,0 s, minimaal 3 s (peer-instagram).")
        expect(message.first).to_be_visible(timeout=30_000)
        expect(page.get_by_role("button", name="Opslaan en ter beoordeling")).to_be_disabled()
        wait_idle(page)
        page.screenshot(path=str(ARTIFACTS / "planner-video-nl.png"), full_page=True)
        page.get_by_test_id("stSidebar").get_by_test_id("stButtonGroup").get_by_text("EN", exact=True).click()
        page.get_by_role("heading", name="Planner", exact=True, level=1).wait_for()
        expect(page.get_by_text("Too short for Instagram: 2.0 s, at least 3 s (peer-instagram).").first
               ).to_be_visible(timeout=30_000)
        wait_idle(page)
        page.screenshot(path=str(ARTIFACTS / "planner-video-en.png"), full_page=True)
