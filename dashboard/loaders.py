"""The dashboard's only door to the library: cached reads and writes that clear them.

A read is cached per its arguments and the data version (`analytics.data_version`, one cheap query per
read): a publish, harvest, campaign load or review by the worker or the CLI shows on the next page run,
not after a time limit, and an unchanged database is not read twice. The time limits only bound memory
and what the version does not cover (channel and harvest errors in "needs attention", the clock).

Reads go to `outreach.analytics` (the only reader: every figure and row a page shows comes from there);
writes go through `outreach.planning` (review actions, dashboard posts). Pages import this module, never
`outreach.db` or `outreach.connectors`; this module takes only these names from them: `Database` and
`open_ready` (to open the configured database once, checked as the CLI checks it, for analytics and planning)
and `check_channel_options` (the CLI's config check).
tests/dashboard/test_imports.py holds both to it.
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import i18n
from dashboard.auth import Account, load_accounts
from dashboard.i18n import t
from outreach import analytics
from outreach.analytics import Dimension, FilterOptions, Filters
from outreach.config import Settings, load_settings
from outreach.connectors import check_channel_options
from outreach.db import Database
from outreach.db.migrate import open_ready
from outreach.errors import OutreachError
from outreach.harvest.settings import HarvestSettings, harvest_settings
from outreach.planning import dashboard_posts, draft_video, review
from outreach.planning.review import PostSelector
from outreach.planning.schedule import Action

TTL_S = 60  # what the data version does not cover: "needs attention", "upcoming" (they move with the clock)
FIGURES_TTL_S = 600

__all__ = ["Dimension", "FilterOptions", "Filters"]


@st.cache_resource
def settings() -> Settings:
    """outreach.toml, checked as the CLI checks it (every channel's keys against its platform's connector)."""
    return check_channel_options(load_settings())


def config_problem() -> str | None:
    """Why the dashboard cannot start with this config, in the check's own one line (file, table, key); None
    when it can. Not cached when it fails: the page tries again once the file is corrected."""
    return _problem(settings)


def database_problem() -> str | None:
    """Why the database cannot be used (missing, out of date: run `outreach init`), in one line; None when it can."""
    return _problem(database)


def _problem(step: Any) -> str | None:
    try:
        step()
    except OutreachError as exc:
        return str(exc)
    return None


@st.cache_resource
def database() -> Database:
    """The configured database, once it exists and is up to date (the CLI's own check)."""
    return open_ready(settings().database_url, source=settings().source)


@st.cache_resource
def programme() -> HarvestSettings:
    """Youth age range, privacy threshold, meetings target (`[youth]`, `[privacy]`, `[programme]`)."""
    return harvest_settings(settings())


@st.cache_resource
def accounts() -> dict[str, Account]:
    return load_accounts(settings().source if settings().source not in (None, "defaults") else None)


def timezone() -> str:
    return settings().timezone


def channel_names() -> list[str]:
    return sorted(settings().channels)


def now() -> datetime:
    return datetime.now(UTC)


# -- reads --------------------------------------------------------------------------------------


VERSION_KEY = "_data_version"


def new_run() -> None:
    """The app calls this at the start of every script run: the data version is taken once per run, on
    the first read (kept in the session, so one visitor's run never uses another's older version)."""
    st.session_state.pop(VERSION_KEY, None)


def data_version() -> tuple[Any, ...]:
    if VERSION_KEY not in st.session_state:
        st.session_state[VERSION_KEY] = analytics.data_version(database())
    return st.session_state[VERSION_KEY]


def fresh(ttl: int = FIGURES_TTL_S) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`st.cache_data` keyed on the arguments and the data version (taken at each call)."""
    def wrap(read: Callable[..., Any]) -> Callable[..., Any]:
        def keyed(version: tuple[Any, ...], *args: Any, **kwargs: Any) -> Any:
            return read(*args, **kwargs)

        keyed.__qualname__ = read.__qualname__  # the cache tells functions apart by their qualified name
        cached = st.cache_data(ttl=ttl, show_spinner=False)(keyed)

        @functools.wraps(read)
        def call(*args: Any, **kwargs: Any) -> Any:
            return cached(data_version(), *args, **kwargs)

        return call
    return wrap


@fresh()
def filter_options() -> FilterOptions:
    return analytics.filter_options(database())


@fresh()
def overview(filters: Filters) -> analytics.Overview:
    return analytics.overview(database(), now=now(), filters=filters, hs=programme())


@fresh()
def totals(filters: Filters, by: Dimension | None = None) -> list[analytics.Totals]:
    return analytics.totals(database(), by=by, filters=filters, hs=programme())


@fresh()
def ratios(filters: Filters) -> analytics.Ratios:
    """Engagement rate and youth share, each over the posts where both its parts exist."""
    return analytics.ratios(database(), filters=filters, hs=programme())


@fresh()
def definition_changes(filters: Filters) -> list[Any]:
    """Metric definitions that change inside the view (footnoted under the trend)."""
    return analytics.definition_changes(database(), filters=filters)


@fresh()
def youth_online(filters: Filters) -> Any:
    """Measured + estimated youth reach, added on purpose (for the youth share of online reach)."""
    from outreach.harvest.values import ReachKind

    return analytics.youth_reach_combined(database(), [ReachKind.MEASURED, ReachKind.ESTIMATED],
                                          filters=filters, hs=programme())


@fresh()
def trend(filters: Filters, metrics: tuple[str, ...]) -> pd.DataFrame:
    """Monthly values per metric, wide (period, metric...); suppressed months are left empty."""
    frames = []
    series = analytics.timeseries_many(database(), metrics=metrics, bucket="month", filters=filters, hs=programme())
    for metric, points in series.items():
        frames.append(pd.DataFrame({"period": [p.period for p in points],
                                    metric: [p.value.value for p in points]}).set_index("period"))
    wide = pd.concat(frames, axis=1) if frames else pd.DataFrame()
    wide = wide.dropna(how="all")  # months with posts but no figures yet (not harvested) draw nothing
    return wide.reset_index() if not wide.empty else pd.DataFrame(columns=["period", *metrics])


@fresh()
def top_posts(filters: Filters, limit: int = 10) -> list[analytics.TopPost]:
    return analytics.top_posts(database(), limit=limit, filters=filters, hs=programme())


def _with_community(filters: Filters, community: str | None) -> Filters:
    from dataclasses import replace

    return replace(filters, community=community or filters.community)


@fresh()
def meetings(filters: Filters, community: str | None, *, limit: int | None = None,
             offset: int = 0) -> list[dict[str, Any]]:
    """The meetings of the view, newest first: all of them, or the page [offset, offset + limit)."""
    return analytics.meeting_rows(database(), filters=_with_community(filters, community), hs=programme(),
                                  limit=limit, offset=offset)


@fresh()
def count_meetings(filters: Filters, community: str | None) -> int:
    return analytics.count_meetings(database(), filters=_with_community(filters, community))


@fresh()
def meeting(meeting_id: int, filters: Filters, community: str | None) -> dict[str, Any] | None:
    """One meeting of the view by its id (one named in the URL, on another page of the list); None outside it."""
    found = analytics.meeting_rows(database(), filters=_with_community(filters, community), hs=programme(),
                                   meeting_id=meeting_id)
    return found[0] if found else None


@fresh()
def campaign_meetings(filters: Filters, community: str | None) -> list[dict[str, Any]]:
    """Meetings and mean evaluation per campaign of the view."""
    return analytics.campaign_meetings(database(), filters=_with_community(filters, community))


@fresh()
def meeting_posts(meeting_id: int) -> list[dict[str, Any]]:
    return analytics.meeting_posts(database(), meeting_id, hs=programme())


@fresh(TTL_S)
def upcoming(filters: Filters, limit: int = 50, offset: int = 0) -> list[analytics.Upcoming]:
    return analytics.upcoming(database(), now=now(), limit=limit, offset=offset, filters=filters)


@fresh(TTL_S)
def count_upcoming(filters: Filters) -> int:
    return analytics.count_upcoming(database(), now=now(), filters=filters)


@fresh(TTL_S)
def attention(limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """One page of what needs attention (`count_attention` says how many there are)."""
    return [{"what": a.what, "post_id": a.post_id, "channel": a.channel, "message": a.message, "since": a.since}
            for a in analytics.needs_attention(database(), now=now(), limit=limit, offset=offset)]


@fresh(TTL_S)
def count_attention() -> int:
    return analytics.count_attention(database(), now=now())


@fresh()
def review_queue() -> list[dict[str, Any]]:
    return analytics.review_queue(database())


@fresh()
def audit_trail(limit: int = 200) -> list[dict[str, Any]]:
    return analytics.audit_trail(database(), limit=limit)


@fresh(TTL_S)
def find_meetings(*, earlier: bool, search: str, keep: tuple[int, ...]) -> dashboard_posts.MeetingList:
    """The planner's meetings (from a short while ago on, or the ones before), found in the database."""
    return dashboard_posts.find_meetings(database(), now=now(), earlier=earlier, search=search, keep=keep)


@fresh()
def with_link(meeting: dashboard_posts.MeetingChoice) -> dashboard_posts.MeetingChoice:
    return dashboard_posts.with_link(database(), meeting)


def load_draft(meeting_id: int, name: str, tz: str) -> dashboard_posts.DraftPost | None:
    return dashboard_posts.load_draft(database(), meeting_id, name, timezone=tz)


def render_draft(draft: dashboard_posts.DraftPost, meeting: dashboard_posts.MeetingChoice
                 ) -> dashboard_posts.RenderedDraft:
    return dashboard_posts.render_draft(draft, meeting, settings())


@st.cache_data(ttl=600, show_spinner=False, max_entries=64)
def card_preview(draft: dashboard_posts.DraftPost, meeting: dashboard_posts.MeetingChoice, language: str
                 ) -> tuple[bytes, str]:
    card = dashboard_posts.preview_card(draft, meeting, language)
    return card.data, card.alt_text


def export_archive(first: date, last: date, *, language: str = "nl") -> list[Path]:
    """Export the archive (BagIt, with the report) for [first, last] local days; returns the zipped bag
    and the report files, ready to download. Written under `<state_dir>/exports/`."""
    from outreach.archive import export_archive as export
    from outreach.archive import period_from_dates

    start, end = period_from_dates(first, last, timezone=timezone())
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    bag = Path(settings().state_dir) / "exports" / f"archive-{first}-{last}-{stamp}"
    export(database(), settings(), bag, start=start, end=end, language=language)
    zipped = Path(shutil.make_archive(str(bag), "zip", root_dir=bag.parent, base_dir=bag.name))
    return [zipped, *sorted((bag / "report").glob("report.*"))]


# -- writes (each clears the cached reads) -----------------------------------------------------


def clear() -> None:
    st.cache_data.clear()


def _lines(results: Sequence[review.ActionResult]) -> list[str]:
    """What each action did, in the reader's language ("post 42 · peer-bluesky · nl: mislukt → ingepland")."""
    clear()
    return [t("action.line", id=r.post_id, channel=r.channel, language=r.language, before=i18n.status(r.before),
              after=i18n.status(r.after)) for r in results]


def approve(ids: Sequence[int], *, reviewer: str, reason: str = "") -> list[str]:
    return _lines(review.approve(database(), PostSelector(ids=tuple(ids)), reviewer=reviewer, reason=reason))


def reject(ids: Sequence[int], *, reviewer: str, reason: str) -> list[str]:
    return _lines(review.reject(database(), PostSelector(ids=tuple(ids)), reviewer=reviewer, reason=reason))


def retry(ids: Sequence[int]) -> list[str]:
    return _lines(review.retry(database(), PostSelector(ids=tuple(ids))))


def cancel(ids: Sequence[int]) -> list[str]:
    return _lines(review.cancel(database(), PostSelector(ids=tuple(ids))))


def reschedule(post_id: int, due_at: datetime) -> list[str]:
    return _lines([review.reschedule(database(), post_id, due_at)])


def confirm_manual(post_id: int, *, permalink: str, by: str, reach: int | None) -> list[str]:
    return _lines([review.confirm_manual(database(), post_id, permalink=permalink, confirmed_by=by, reach=reach)])


def save_draft(draft: dashboard_posts.DraftPost) -> str:
    report = dashboard_posts.save_draft(database(), draft, settings(), now=datetime.now(UTC))
    clear()
    counts = report.counts()
    return t("plan.saved_counts", new=counts[Action.NEW], updated=counts[Action.UPDATED],
             again=counts[Action.REVIEW_AGAIN])


def video_files() -> list[str]:
    """Videos a planner may choose: in the campaigns folder, `[media] asset_dirs` and earlier uploads."""
    return [str(p) for p in draft_video.video_files(settings())]


def save_upload(name: str, data: bytes) -> str:
    return str(draft_video.save_upload(settings(), name, data))


def video_options(channels: Sequence[str]) -> dict[str, list[str]]:
    return draft_video.video_options(settings(), channels)


ACTION_ERRORS = (review.ReviewError, dashboard_posts.DraftError, draft_video.UploadError, ValueError)
