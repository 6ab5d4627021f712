"""AppTest: a volunteer plans a video post in the planner, sees a platform's limit in their language, saves it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from outreach.db.models import Post
from outreach.media.synthetic import write_clip
from tests.dashboard.conftest import Seeded
from tests.dashboard.test_pages import app, type_text, visit


def with_instagram_and_videos(seeded: Seeded, folder: Path) -> None:
    """The seeded config plus an Instagram channel (3 s at least) and a folder of videos."""
    folder.mkdir()
    with seeded.config.open("a", encoding="utf-8") as config:
        config.write(f'\n[channels.peer-instagram]\nplatform = "instagram"\nbase_url = "http://127.0.0.1:1/graph"\n'
                     f'token_env = "DASHBOARD_TEST_TOKEN_NEVER_SET"\n\n[media]\ndirectory = "{folder.parent}/media"\n'
                     f'asset_dirs = ["{folder}"]\n')


def test_a_volunteer_plans_a_video_post_sees_a_limit_in_dutch_and_saves_it(seeded: Seeded, tmp_path: Path) -> None:
    videos = tmp_path / "videos"
    with_instagram_and_videos(seeded, videos)
    short = write_clip(videos / "kort.mp4", seconds=2.0)
    at = app().run()
    visit(at, "planner")
    at.multiselect(key="plan_languages").set_value(["nl"]).run()
    at.multiselect(key="plan_channels").set_value(["peer-instagram"]).run()
    type_text(at, "plan_text_nl", "Kijk mee naar {{ meeting.city }}!")
    at.selectbox(key="plan_video").set_value(str(short.resolve())).run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert "Te kort voor Instagram: 2,0 s, minimaal 3 s (peer-instagram)." in errors, errors
    assert any("beschrijving nodig (Nederlands)" in e for e in errors), errors
    assert at.button(key="plan_save").disabled
    good = write_clip(videos / "goed.mp4", seconds=3.5)
    at.run()
    at.selectbox(key="plan_video").set_value(str(good.resolve())).run()
    type_text(at, "plan_vdesc_nl", "Twee mensen zwaaien")
    at.checkbox(key="plan_opt_peer-instagram_share_to_feed").check().run()
    assert not at.error, [e.value for e in at.error]
    at.button(key="plan_save").click().run()
    assert not at.exception and "Opgeslagen" in at.success[0].value
    db = seeded.database()
    with db.session() as s:
        post = s.scalar(select(Post).where(Post.rule_key == "dashboard:extra"))
        assert post is not None and post.channel == "peer-instagram"
        assert post.media == [{"video": str(good.resolve()), "captions": {}, "alt_text": "Twee mensen zwaaien",
                               "options": {"share_to_feed": True}}]
    db.dispose()
    at.selectbox(key="plan_video").set_value("").run()  # a fresh form, then the saved post loaded into it
    at.button(key="plan_load").click().run()
    assert at.selectbox(key="plan_video").value == str(good.resolve())
    assert at.checkbox(key="plan_opt_peer-instagram_share_to_feed").value and not at.error


def test_the_limit_is_said_in_english_with_english_numbers(seeded: Seeded, tmp_path: Path) -> None:
    videos = tmp_path / "videos"
    with_instagram_and_videos(seeded, videos)
    short = write_clip(videos / "short.mp4", seconds=2.0)
    at = app(lang="en").run()
    # Chosen before the page draws: AppTest formats a drawn selectbox's options outside the page, in Dutch.
    at.session_state["plan_channels"], at.session_state["plan_video"] = ["peer-instagram"], str(short.resolve())
    visit(at, "planner")
    errors = [e.value for e in at.error]
    assert "Too short for Instagram: 2.0 s, at least 3 s (peer-instagram)." in errors, errors
