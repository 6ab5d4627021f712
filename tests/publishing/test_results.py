"""The result writer: group commits in order, `sync` before claiming again, write errors surface."""

from __future__ import annotations

import threading

import pytest

from outreach.domain import Platform
from outreach.publishing.results import Claim, Outcome, Result, ResultWriter


def claim(post_id: int) -> Claim:
    return Claim(post_id, "token", 1, "peer-mastodon", "nl", Platform("mastodon"), False)


def result(post_id: int) -> Result:
    return Result(claim(post_id), None, {}, {}, Outcome(post_id, "peer-mastodon", "nl", "published"))


def test_results_are_written_in_order_and_grouped_under_load() -> None:
    groups: list[tuple[list[int], list[int]]] = []
    gate = threading.Event()

    def write(results, given_back):  # type: ignore[no-untyped-def]
        gate.wait(5)  # the first write is slow: what arrives meanwhile goes in the next transaction
        groups.append(([r.claim.post_id for r in results], [c.post_id for c in given_back]))
        return [r.outcome for r in results]

    seen: list[int] = []
    writer = ResultWriter(write, lambda o: seen.append(o.post_id), linger_s=0.0)
    writer.put(result(1))
    for post_id in (2, 3):
        writer.put(result(post_id))
    writer.put(claim(4))  # given back unsent
    gate.set()
    outcomes = writer.close()
    assert [o.post_id for o in outcomes] == seen == [1, 2, 3]
    assert sum(len(r) + len(b) for r, b in groups) == 4 and len(groups) <= 3
    assert [4] in [b for _, b in groups]


def test_sync_waits_for_what_was_put() -> None:
    written: list[int] = []

    def write(results, given_back):  # type: ignore[no-untyped-def]
        written.extend(c.post_id for c in given_back)
        return []

    writer = ResultWriter(write, linger_s=0.05)
    writer.put(claim(7))
    writer.sync()
    assert written == [7]
    writer.close()


def test_a_failed_write_is_raised_at_close_and_later_results_are_still_tried() -> None:
    calls: list[list[int]] = []

    def write(results, given_back):  # type: ignore[no-untyped-def]
        calls.append([r.claim.post_id for r in results])
        if len(calls) == 1:
            raise RuntimeError("database is locked")
        return [r.outcome for r in results]

    writer = ResultWriter(write, linger_s=0.0)
    writer.put(result(1))
    writer.sync()
    writer.put(result(2))
    with pytest.raises(RuntimeError, match="database is locked"):
        writer.close()
    assert calls == [[1], [2]] and [o.post_id for o in writer.outcomes] == [2]
