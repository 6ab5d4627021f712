"""AppTest: every page against a seeded database, asserting on the figures and messages shown."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from dashboard import auth
from outreach import analytics
from outreach.db.models import Approval, Post
from outreach.harvest.settings import HarvestSettings
from tests.dashboard.conftest import APP, PASSWORD, Seeded

PAGES = ("overview", "campaigns", "meetings", "communities", "schedule", "planner", "review", "archive")
RITA = auth.User("rita", frozenset({auth.Role.PLANNER, auth.Role.REVIEWER}))


def app(user: auth.User | None = RITA, **params: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30)
    if user is not None:
        at.session_state[auth.SESSION_KEY] = user
    for key, value in params.items():
        at.query_params[key] = value
    return at


def visit(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def dots(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def texts(at: AppTest) -> str:
    parts: list[Any] = [*at.markdown, *at.caption, *at.text, *at.subheader, *at.success, *at.error, *at.info]
    return "\n".join(str(p.value) for p in parts)


def test_login_form_lets_a_configured_user_in(seeded: Seeded) -> None:
    at = app(user=None).run()
    assert [t.value for t in at.title] == ["Inloggen"] and not at.metric
    at.text_input(key="login_user").input("rita")
    at.text_input(key="login_password").input("wrong")
    at.button[0].click().run()
    assert at.error[0].value == "Unknown user or wrong password." or "onjuist" in at.error[0].value
    at.text_input(key="login_user").input("rita")
    at.text_input(key="login_password").input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception
    assert "Bijeenkomsten gehouden" in metrics(at)
    assert PASSWORD not in texts(at)


def test_viewer_sees_no_review_or_planner(seeded: Seeded) -> None:
    at = app(user=auth.User("vera", frozenset())).run()
    with pytest.raises(ValueError):
        at.switch_page("app_pages/review.py")
    with pytest.raises(ValueError):
        at.switch_page("app_pages/planner.py")
    visit(at, "schedule")
    assert not [b for b in at.button if b.key and b.key.startswith("bulk_")]  # retry/cancel are for planners
    assert not [m for m in at.multiselect if m.key == "sched_chosen"]


def test_overview_shows_analytics_figures_and_filters(seeded: Seeded) -> None:
    db = seeded.database()
    from datetime import UTC, datetime

    at = app().run()
    assert not at.exception
    shown = metrics(at)
    expected = analytics.overview(db, now=datetime.now(UTC), hs=HarvestSettings())
    assert shown["Posts gepubliceerd"] == dots(expected.totals.posts)
    assert shown["Totaal bereik"] == dots(expected.totals.reach.value)
    assert shown["Bijeenkomsten gehouden"] == str(expected.meetings.held)
    assert shown["Jongerenbereik · geschat"] == dots(expected.totals.youth.by_kind[
        analytics.ReachKind.ESTIMATED].value)
    measured = expected.totals.youth.by_kind[analytics.ReachKind.MEASURED].value
    assert measured and shown["Jongerenbereik · gemeten"] == dots(measured)  # the history's YouTube videos
    assert "Jongerenbereik · offline (aanwezigen)" in shown
    assert at.get("vega_lite_chart") or at.get("arrow_vega_lite_chart")

    at.selectbox(key="f_organisation").select("IOT").run()
    assert at.query_params["organisation"] == ["IOT"] or at.query_params["organisation"] == "IOT"
    only_iot = analytics.overview(db, now=datetime.now(UTC), filters=analytics.Filters(organisation="IOT"))
    assert metrics(at)["Posts gepubliceerd"] == dots(only_iot.totals.posts) != shown["Posts gepubliceerd"]
    db.dispose()


def test_filters_are_read_from_the_url_and_english_switches(seeded: Seeded) -> None:
    at = app(platform="instagram", lang="en").run()
    assert at.selectbox(key="f_platform").value == "instagram"
    assert "Posts published" in metrics(at)
    db = seeded.database()
    from datetime import UTC, datetime

    insta = analytics.overview(db, now=datetime.now(UTC), filters=analytics.Filters(platform="instagram"))
    assert metrics(at)["Posts published"] == dots(insta.totals.posts)
    db.dispose()


def test_every_page_shows_its_figures(seeded: Seeded) -> None:
    at = app().run()
    visit(at, "campaigns")
    frames = [d.value for d in at.dataframe]
    assert any("dashboard-test" in " ".join(map(str, f.iloc[:, 0])) or "Dashboard test" in " ".join(
        map(str, f.iloc[:, 0])) for f in frames)
    visit(at, "meetings")
    assert any("iot-rotterdam-test" in f.to_string() for f in (d.value for d in at.dataframe))
    visit(at, "communities")
    platforms = at.dataframe[0].value.iloc[:, 0].tolist()
    assert {"Instagram", "Facebook", "YouTube"} <= set(platforms) and "instagram" not in platforms  # names, not codes
    visit(at, "schedule")
    attention = at.dataframe[1].value
    assert seeded.failed_id in attention.iloc[:, 1].tolist() and seeded.manual_id in attention.iloc[:, 1].tolist()
    assert len(attention) == len(attention.drop_duplicates())  # nothing listed twice
    assert list(attention.columns) == ["Status", "Post", "Kanaal", "Toelichting", "Wanneer"]  # hints, not only errors
    shown = dict(zip(attention.iloc[:, 1], zip(attention.iloc[:, 0], attention.iloc[:, 3], strict=True), strict=True))
    assert shown[seeded.failed_id][0] == "mislukt"  # in the volunteer's words, not the status code
    assert shown[seeded.failed_id][1].startswith("Het platform weigerde de post")  # what to do, in Dutch
    assert shown[seeded.manual_id][0].startswith("met de hand plaatsen")
    assert shown[seeded.manual_id][1] == "Plaats deze post met de hand en bevestig hem hier."
    upcoming = at.dataframe[0].value
    from dashboard.i18n import NL

    assert set(upcoming.iloc[:, 4]) <= {v for k, v in NL.items() if k.startswith("status.")}  # no status codes
    assert {"ingepland", "wacht op beoordeling"} <= set(upcoming.iloc[:, 4])
    assert set(upcoming.iloc[:, 3]) <= {"Nederlands", "Turks", "Arabisch", "Engels", "Tamazight", "Somalisch",
                                        "Koerdisch", "Tigrinya", "Perzisch"}  # languages by name, not "nl"
    assert "Nederlands" in set(upcoming.iloc[:, 3])
    visit(at, "review")
    assert "**Nederlands** · peer-mastodon" in texts(at) and "**Turks** · peer-bluesky" in texts(at)  # names, no ids
    visit(at, "archive")
    assert [t.value for t in at.title] == ["Archief"]
    assert at.button(key="arch_export") is not None or "niet" in texts(at)


def test_small_counts_show_as_below_ten(seeded: Seeded) -> None:
    at = app().run()
    visit(at, "meetings")
    table = at.dataframe[0].value.to_string()
    assert "<10" in table or all(c.isdigit() or c in "–. " for c in at.dataframe[0].value.iloc[:, 5].astype(str))


def type_text(at: AppTest, key: str, text: str) -> None:
    """What a planner field (`live_text`, a custom component AppTest cannot type into) holds after typing: its
    session value, as the field's change callback leaves it; the browser tests type for real."""
    at.session_state[key] = text
    at.run()


def test_planner_validates_as_the_volunteer_types_and_saves_to_review(seeded: Seeded) -> None:
    at = app().run()
    visit(at, "planner")
    at.multiselect(key="plan_languages").set_value(["nl"]).run()
    at.multiselect(key="plan_channels").set_value(["peer-mastodon"]).run()
    type_text(at, "plan_text_nl", "Kom ook! " * 70)
    errors = [e.value for e in at.error]
    assert ("Te lang voor Mastodon: 629 van de 500 tekens (peer-mastodon, Nederlands). Haal er 129 weg."
            in errors), errors
    assert at.button(key="plan_save").disabled
    type_text(at, "plan_text_nl", "Kom ook! {{ link }}")  # no link given: the campaign's
    assert not at.error and "Kom ook! https://verandering.example/" in texts(at)
    type_text(at, "plan_text_nl", "Kom ook naar {{ meeting.city }}!")
    assert not at.error and at.success[0].value == "Alles past binnen de limieten van de platforms."
    assert "Kom ook naar" in texts(at)
    type_text(at, "plan_text_nl", "{{ meeting.citty }}")
    assert any("meeting has no field 'citty'" in e.value for e in at.error)
    type_text(at, "plan_text_nl", "Kom ook naar {{ meeting.city }}!")
    at.button(key="plan_save").click().run()
    assert not at.exception and "Opgeslagen" in at.success[0].value
    db = seeded.database()
    with db.session() as s:
        post = s.scalar(select(Post).where(Post.rule_key == "dashboard:extra"))
        assert post is not None and post.status == "pending_review" and post.channel == "peer-mastodon"
        assert post.text.startswith("Kom ook naar ")
    db.dispose()


def test_review_approves_and_rejects_with_reason(seeded: Seeded) -> None:
    first, second = seeded.pending_ids[:2]
    at = app().run()
    visit(at, "review")
    at.button(key=f"approve_{first}").click().run()
    assert at.success[0].value == f"post {first} · peer-mastodon · nl: wacht op beoordeling → ingepland"
    at.button(key=f"reject_{second}").click().run()
    assert [e.value for e in at.error] == ["Niet gelukt: schrijf bij afwijzen een reden (die ziet de schrijver)."]
    at.text_input(key=f"reason_{second}").input("Turkse vertaling klopt niet")
    at.button(key=f"reject_{second}").click().run()
    db = seeded.database()
    with db.session() as s:
        assert s.get(Post, first).status == "approved" and s.get(Post, second).status == "rejected"
        decisions = {(a.post_id, a.decision, a.reviewer, a.reason) for a in s.scalars(select(Approval))}
    assert (second, "rejected", "rita", "Turkse vertaling klopt niet") in decisions
    assert any(d[0] == first and d[1] == "approved" for d in decisions)
    trail = at.dataframe[-1].value
    assert "Turkse vertaling klopt niet" in trail.to_string()
    db.dispose()


def test_upcoming_posts_are_counted_and_paged(seeded: Seeded) -> None:
    from datetime import UTC, datetime

    db = seeded.database()
    everything = analytics.upcoming(db, now=datetime.now(UTC), limit=10_000)
    db.dispose()
    total, pages = len(everything), -(-len(everything) // 50)
    assert total > 100  # more than two pages in the seeded database
    at = visit(app().run(), "schedule")
    assert f"50 van {total} · pagina 1 van {pages}" in texts(at)  # not "the next 50" with no count
    assert at.dataframe[0].value.iloc[:, 1].tolist() == [u.post_id for u in everything[:50]]
    at.number_input(key="sched_upcoming_page").set_value(pages).run()
    rest = total - 50 * (pages - 1)
    assert f"{rest} van {total} · pagina {pages} van {pages}" in texts(at)
    assert at.dataframe[0].value.iloc[:, 1].tolist() == [u.post_id for u in everything[50 * (pages - 1):]]


def test_schedule_retries_chosen_posts_after_a_confirmation(seeded: Seeded) -> None:
    at = app().run()
    visit(at, "schedule")
    assert "2 van 2 · pagina 1 van 1" in texts(at)
    at.multiselect(key="sched_chosen").set_value([seeded.failed_id, seeded.manual_id]).run()
    assert at.button(key="bulk_retry").label == "Opnieuw proberen (1)"  # only the failed one can be retried
    at.button(key="bulk_retry").click().run()
    assert [w.value for w in at.warning] == ["Weet je het zeker? 1 post(s) opnieuw proberen."]
    db = seeded.database()
    with db.session() as s:
        assert s.get(Post, seeded.failed_id).status == "failed"  # nothing happens before "yes"
    at.button(key="bulk_yes").click().run()
    assert not at.exception
    with db.session() as s:
        assert s.get(Post, seeded.failed_id).status == "approved"
    db.dispose()
    assert "mislukt → ingepland" in texts(at)


def test_schedule_cancels_a_whole_page_and_back_changes_nothing(seeded: Seeded) -> None:
    at = app().run()
    visit(at, "schedule")
    at.checkbox(key="sched_all").check().run()
    at.button(key="bulk_cancel").click().run()
    at.button(key="bulk_no").click().run()
    assert not at.warning
    db = seeded.database()
    with db.session() as s:
        assert s.get(Post, seeded.failed_id).status == "failed"
    at.checkbox(key="sched_all").check().run()
    at.button(key="bulk_cancel").click().run()
    at.button(key="bulk_yes").click().run()
    with db.session() as s:
        assert {s.get(Post, i).status for i in (seeded.failed_id, seeded.manual_id)} == {"cancelled"}
    db.dispose()


def test_schedule_moves_a_failed_post_to_a_new_local_time(seeded: Seeded) -> None:
    from datetime import UTC, date, datetime, time

    at = app().run()
    visit(at, "schedule")
    post_id = seeded.failed_id
    at.multiselect(key="sched_chosen").set_value([post_id]).run()
    at.date_input(key=f"move_day_{post_id}").set_value(date(2027, 3, 28))  # the spring DST change
    at.time_input(key=f"move_time_{post_id}").set_value(time(18, 30))
    form_button = [b for b in at.button if "Verplaatsen" in str(b.label)]
    assert form_button, [b.label for b in at.button]
    form_button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    db = seeded.database()
    with db.session() as s:
        post = s.get(Post, post_id)
        assert post.status == "approved" and post.due_at == datetime(2027, 3, 28, 16, 30, tzinfo=UTC)  # CEST
    db.dispose()


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_no_table_cell_reads_none_and_decimals_follow_the_language(seeded: Seeded, lang: str) -> None:
    """st.dataframe draws a missing value as a grey "None": every cell holds words, a number or "–"."""
    at = app(lang=lang).run()
    for page in ("overview", "campaigns", "meetings", "communities", "schedule", "review"):
        visit(at, page)
        for frame in (d.value for d in at.dataframe):
            assert not frame.isna().any().any(), (page, frame[frame.isna().any(axis=1)].head())
            floats = [v for v in frame.to_numpy().ravel() if isinstance(v, float)]
            assert not floats, (page, floats[:3])  # written per language (9,5 / 9.5), not left to the grid
        if lang == "nl":  # Streamlit's own English placeholder ("Choose options") replaced
            assert all(m.placeholder == "Kies…" for m in at.multiselect), page


def test_meetings_page_opens_on_the_latest_meeting_with_an_outcome(seeded: Seeded) -> None:
    at = app().run()
    visit(at, "meetings")
    assert "Nog geen aanwezigheid of evaluatie ingevoerd." not in texts(at)  # not a future meeting
    assert "Aanwezigen · offline (aanwezigen)" in metrics(at)


@pytest.mark.parametrize(("lang", "what", "hint"), [
    ("nl", "afmaken in de TikTok-app", "Open de TikTok-app: maak de post af vanuit je inbox"),
    ("en", "finish in the TikTok app", "Open the TikTok app: finish the post from your inbox")])
def test_tiktok_draft_is_listed_to_finish_in_the_app(seeded: Seeded, lang: str, what: str, hint: str) -> None:
    """A TikTok post waiting in the creator's inbox is listed like a manual post, in the reader's words
    (not the connector's English message), with the confirm form."""
    from outreach import lifecycle
    from outreach.domain import PostStatus

    db = seeded.database()
    with db.write() as s:
        post = s.get(Post, seeded.pending_ids[0])
        post.channel, post.platform = "peer-tiktok", "tiktok"
        for status in (PostStatus.APPROVED, PostStatus.PUBLISHING, PostStatus.MANUAL_DUE):
            lifecycle.transition(post, status)
        post.last_error = "in the TikTok inbox: finish the post in the TikTok app, then `outreach confirm`"
        post_id = post.id
    db.dispose()
    at = visit(app(lang=lang).run(), "schedule")
    attention = at.dataframe[1].value
    shown = dict(zip(attention.iloc[:, 1], zip(attention.iloc[:, 0], attention.iloc[:, 3], strict=True), strict=True))
    assert shown[post_id][0].startswith(what) and shown[post_id][1].startswith(hint)
    assert "outreach confirm" not in attention.to_string()
    # The confirm form is for one chosen post. Chosen by its label: AppTest formats a raw option outside the
    # page's run, where the reader's language is not known (Dutch), so an English label would not match.
    choose = at.multiselect(key="sched_chosen")
    choose.set_value([o for o in choose.options if o.endswith(f" {post_id}")]).run()
    link = "Link naar de geplaatste post" if lang == "nl" else "Link to the post"
    assert at.text_input(key=f"permalink_{post_id}").label == link  # confirmed with its link, like a manual post


@pytest.mark.parametrize(("lang", "measured", "estimated"), [
    ("nl", "gemeten door YouTube Analytics: ingelogde kijkers (13+), ongeveer twee dagen vertraagd",
     "geschat: bereik × "),
    ("en", "measured by YouTube Analytics: logged-in viewers (13+), about two days behind", "estimated: reach × ")])
def test_measured_youth_reach_is_shown_with_its_basis_apart_from_estimates(seeded: Seeded, lang: str, measured: str,
                                                                            estimated: str) -> None:
    from datetime import UTC, datetime

    from outreach.db.models import PostMetricsLatest

    db = seeded.database()
    top = analytics.top_posts(db, limit=1, filters=analytics.Filters())[0]
    with db.write() as s:  # YouTube Analytics measured the best-reaching post's young viewers
        s.get(Post, top.post_id).platform = "youtube"
        s.get(PostMetricsLatest, top.post_id).youth_reach = 1234
    assert analytics.overview(db, now=datetime.now(UTC)).top_posts[0].youth.kind.value == "measured"
    db.dispose()
    at = visit(app(lang=lang), "overview")
    sources = next(d.value for d in at.dataframe if len(d.value) and top.post_id in d.value.iloc[:, 0].tolist())
    column = sources.iloc[:, -2].tolist()  # the source column, before the link
    assert column[0].startswith(measured), column[0]
    assert column[1:] and all(c.startswith(estimated) or c == "–" for c in column[1:]), column
    assert not any(word in " ".join(column) for word in ("platform", "follower_demographics", "youth share"))
    basis = {"nl": "1 posts · door het platform gemeten bij ingelogde kijkers, ongeveer twee dagen vertraagd",
             "en": "1 posts · measured by the platform among logged-in viewers, about two days behind"}[lang]
    assert basis in texts(at)  # the measured tile says what it stands on


@pytest.mark.parametrize(("lang", "thousands", "march"), [("nl", ".", "mrt"), ("en", ",", "Mar")])
def test_dashboard_charts_carry_the_reports_locale(seeded: Seeded, lang: str, thousands: str, march: str) -> None:
    import json

    at = visit(app(lang=lang), "overview")
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert specs, "the overview draws its trend"
    locale = specs[0]["config"]["locale"]
    assert locale["number"]["thousands"] == thousands and locale["time"]["shortMonths"][2] == march


def test_a_definition_change_is_footnoted_once_and_marked_when_not_confirmed(seeded: Seeded) -> None:
    from outreach.harvest.definitions import UNCONFIRMED

    for lang, words in (("nl", ("Instagram telt de weergaven vanaf 21 april 2025 anders",
                                "Facebook telt de weergaven vanaf 15 november 2025 anders")),
                        ("en", ("From 21 April 2025, Instagram counts views differently",
                                "From 15 November 2025, Facebook counts views differently"))):
        at = app(lang=lang).run()
        assert not at.exception
        captions = [str(c.value) for c in at.caption]
        instagram = [c for c in captions if words[0] in c]
        facebook = [c for c in captions if words[1] in c]
        # Meta retired `impressions` and, for Reels, `plays` that day: one footnote, marked because the
        # start of `plays` is not confirmed; Facebook's `post_impressions` -> `post_media_view` is.
        assert len(instagram) == 1 and UNCONFIRMED[lang] in instagram[0], captions
        assert len(facebook) == 1 and UNCONFIRMED[lang] not in facebook[0], captions


@pytest.mark.parametrize(("lang", "header", "none"), [("nl", "Kijktijd (uren)", "geen gegevens"),
                                                       ("en", "Watch time (hours)", "no data")])
def test_watch_time_in_hours_per_platform_and_no_data_where_none_is_reported(seeded: Seeded, lang: str, header: str,
                                                                             none: str) -> None:
    from babel.numbers import format_decimal

    db = seeded.database()
    per = {t.label: t for t in analytics.totals(db, by=analytics.Dimension.PLATFORM)}
    db.dispose()
    assert per["youtube"].watch_time_h and per["mastodon"].watch_time_h is None  # the seeded history's videos
    at = visit(app(lang=lang), "communities")
    table = at.dataframe[0].value
    shown = dict(zip(table.iloc[:, 0], table[header], strict=True))
    expected = format_decimal(per["youtube"].watch_time_h, "#,##0.0", locale={"nl": "nl_NL", "en": "en_GB"}[lang])
    assert shown["YouTube"] == expected and shown["Mastodon"] == none
    assert ("," if lang == "nl" else ".") in shown["YouTube"]  # one decimal, the reader's way
