"""Harvest passes over real HTTP against the Mastodon sandbox, driven by a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import requests
from sqlalchemy import func, select

from outreach.connectors.mastodon import MastodonConnector
from outreach.db.models import EngagementSnapshot, HarvestChannel, Post, PostMetricsLatest
from outreach.harvest import HarvestSettings, harvest_due, next_harvest_at
from outreach.sandbox.mastodon import DEMO_TOKEN

from .conftest import START, World


def snapshots(world: World, post_id: int) -> list[EngagementSnapshot]:
    with world.db.session() as s:
        return list(s.scalars(select(EngagementSnapshot).where(EngagementSnapshot.post_id == post_id)
                              .order_by(EngagementSnapshot.captured_at)))


def rollup(world: World, post_id: int) -> PostMetricsLatest:
    with world.db.session() as s:
        row = s.get(PostMetricsLatest, post_id)
        assert row is not None
        return row


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def test_default_cadence_slots() -> None:
    hs = HarvestSettings()
    hours = [s // 3600 for s in hs.slots()]
    assert hours[:6] == [1, 6, 24, 72, 168, 720]
    assert hours[6:] == [720 + 720 * i for i in range(1, 12)]  # monthly for a year
    assert hs.next_slot(0, 0) == 3600
    assert hs.next_slot(0, 3600) == 6 * 3600  # a slot that is due now is taken; the next is after it
    assert hs.next_slot(0, 366 * 86400) is None


def test_snapshots_accumulate_at_the_cadence(world: World) -> None:
    ids = world.publish(2)
    world.clock.advance(minutes=59)
    assert world.harvest().snapshots == 0  # nothing before the first slot
    for hours in (1, 6, 24, 72):
        world.clock.set(START + timedelta(hours=hours))
        report = world.harvest()
        assert report.snapshots == 2, report.lines()
        world.clock.advance(minutes=30)
        assert world.harvest().snapshots == 0  # not due again until the next slot
    got = snapshots(world, ids[0])
    assert [s.captured_at for s in got] == [epoch(START + timedelta(hours=h)) for h in (1, 6, 24, 72)]
    likes = [s.likes for s in got]
    assert likes == sorted(likes) and likes[-1] > likes[0]  # counts grow on the sim clock
    assert got[-1].raw["favourites_count"] == got[-1].likes  # raw names kept beside normalised ones
    assert got[-1].raw["quotes_count"] >= 0
    latest = rollup(world, ids[0])
    assert latest.snapshots == 4 and latest.likes == got[-1].likes
    assert latest.next_harvest_at == epoch(START + timedelta(days=7))
    assert next_harvest_at(world.db) == START + timedelta(days=7)


def test_missed_harvests_are_caught_up_once_after_a_restart(world: World) -> None:
    ids = world.publish(3)
    world.clock.set(START + timedelta(hours=1))
    assert world.harvest().snapshots == 3
    world.clock.set(START + timedelta(days=5))  # down through the 6 h, 24 h and 3 d slots
    world.restart()
    before = world.requests()
    report = world.harvest()
    assert report.snapshots == 3 and world.requests() - before == 3
    assert world.harvest().snapshots == 0  # the missed slots are not replayed
    assert [s.captured_at for s in snapshots(world, ids[1])] == [
        epoch(START + timedelta(hours=1)), epoch(START + timedelta(days=5))]
    assert rollup(world, ids[1]).next_harvest_at == epoch(START + timedelta(days=7))


class RecordingMastodon(MastodonConnector):
    """The real connector with a larger batch size; remembers which ids each call asked for."""

    metrics_batch_size = 2
    calls: list[list[str]] = []

    def fetch_metrics(self, remote_ids):  # type: ignore[no-untyped-def]
        type(self).calls.append(list(remote_ids))
        return super().fetch_metrics(remote_ids)


def test_batches_per_channel_of_the_connectors_batch_size(world: World) -> None:
    first = world.publish(3)
    second = world.publish(2, channel="kezban-mastodon")
    RecordingMastodon.calls = []
    made: dict[str, RecordingMastodon] = {}

    def factory(channel: str) -> RecordingMastodon:
        if channel not in made:
            made[channel] = RecordingMastodon(world.settings.channel(channel), clock=world.clock)
        return made[channel]

    world.clock.advance(hours=1)
    report = harvest_due(world.db, world.settings, factory, now=world.clock())
    assert report.snapshots == 5
    with world.db.session() as s:
        remote = dict(s.execute(select(Post.id, Post.remote_id)).all())
    assert sorted(RecordingMastodon.calls) == sorted([[remote[i] for i in first[:2]], [remote[first[2]]],
                                                      [remote[i] for i in second]])
    assert {c.channel: c.requests for c in report.channels} == {"peer-mastodon": 2, "kezban-mastodon": 1}


def test_rate_limit_headers_stop_the_channel_until_reset(world: World) -> None:
    ids = world.publish(5)
    world.clock.set(START + timedelta(hours=1, seconds=10))
    world.sim.control("set_limits", {"rate_limit": 3})
    before = world.requests()
    report = world.harvest()
    assert report.snapshots == 3 and world.requests() - before == 3  # the 4th is never sent
    (channel,) = report.channels
    reset = START + timedelta(hours=1, minutes=5)  # end of the sim's 300 s window
    assert channel.status == "rate_limited" and channel.resume_at == reset and channel.left == 2
    world.restart()  # the block survives a restart: it is in the database
    world.clock.advance(minutes=2)
    report = world.harvest()
    assert report.snapshots == 0 and report.channels[0].status == "blocked"
    assert world.requests() - before == 3  # no request before the reset
    world.clock.set(reset)
    assert world.harvest().snapshots == 2
    assert all(len(snapshots(world, i)) == 1 for i in ids)


def test_a_429_records_when_to_resume(world: World) -> None:
    world.publish(2)
    world.clock.set(START + timedelta(hours=1))
    world.sandbox.add_fault(platform="mastodon", mode="rate_limit", method="GET", path="/statuses/",
                            retry_after_s=900)
    report = world.harvest()
    assert report.snapshots == 0 and report.channels[0].status == "rate_limited"
    with world.db.session() as s:
        state = s.get(HarvestChannel, "peer-mastodon")
        assert state is not None and state.resume_at == epoch(world.clock() + timedelta(seconds=900))
    world.clock.advance(minutes=10)
    assert world.harvest().snapshots == 0
    world.clock.advance(minutes=5)
    assert world.harvest().snapshots == 2


def test_a_post_deleted_on_the_platform_is_recorded_as_missing(world: World) -> None:
    ids = world.publish(2)
    world.clock.set(START + timedelta(hours=6, minutes=1))
    world.harvest()
    liked = rollup(world, ids[0]).likes
    with world.db.session() as s:
        remote = s.get(Post, ids[0]).remote_id
    response = requests.delete(f"{world.url}/mastodon/api/v1/statuses/{remote}",
                               headers={"Authorization": f"Bearer {DEMO_TOKEN}"}, timeout=5)
    assert response.status_code == 200
    world.clock.set(START + timedelta(hours=24))
    report = world.harvest()
    assert report.snapshots == 2 and report.missing == 1
    last = snapshots(world, ids[0])[-1]
    assert last.raw == {"missing": True} and last.likes is None
    latest = rollup(world, ids[0])
    assert latest.gone_at == epoch(world.clock()) and latest.likes == liked  # last known values kept
    assert rollup(world, ids[1]).gone_at is None


def test_history_is_append_only(world: World) -> None:
    ids = world.publish(1)
    for hours in (1, 6, 24):
        world.clock.set(START + timedelta(hours=hours))
        world.harvest()
    first = snapshots(world, ids[0])
    world.clock.set(START + timedelta(days=3))
    world.harvest()
    again = snapshots(world, ids[0])
    assert [(s.id, s.likes, s.captured_at) for s in again[:3]] == [(s.id, s.likes, s.captured_at) for s in first]
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(EngagementSnapshot)) == 4
    assert datetime.fromtimestamp(again[-1].captured_at, UTC) == world.clock()


def test_each_snapshot_records_its_api_version_and_metric_definitions(world: World) -> None:
    ids = world.publish(1)
    world.clock.set(START + timedelta(hours=1))
    assert world.harvest().snapshots == 1
    (snap,) = snapshots(world, ids[0])
    assert snap.api_version == "v1"  # Mastodon's REST API (/api/v1/statuses)
    assert snap.definition == "mastodon@2018-10-07"  # replies_count came with Mastodon 2.5
    from outreach.harvest.definitions import definitions_in

    assert {d.raw_name for d in definitions_in(snap.definition)} == {"favourites_count", "reblogs_count",
                                                                    "replies_count"}
