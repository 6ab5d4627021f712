"""What the Meta connectors share: the Graph error envelope mapped by `error.code` (never by HTTP
status: Meta throttles with 400), usage headers into `blocked_until`, tokens that a refresh has
replaced, insights that degrade per metric (the container flow: meta_containers.py).

Codes follow platforms.md §1.4, §2.3 and §9.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import requests

from outreach.connectors.base import Connector
from outreach.connectors.errors import (
    AuthError,
    ConnectorError,
    ContentRejected,
    RateLimited,
    TransientError,
    bounded_wait,
)
from outreach.domain import AudienceRow, MediaItem, PublishRequest, PublishResult

log = logging.getLogger(__name__)

THROTTLE_CODES = frozenset({4, 17, 32, 341, 613, 80001, 80002, 80003, 80004, 80005, 80006, 80008, 80009})
AUTH_CODES = frozenset({102, 104, 190})
TRANSIENT_CODES = frozenset({1, 2, -1, -2})
NOT_READY = (9007, 2207027)
QUOTA = (9, 2207042)
SPAM = 2207051
USAGE_HEADERS = ("X-Business-Use-Case-Usage", "X-App-Usage", "X-Page-Usage")


def parse_graph_time(value: str | None) -> datetime | None:
    """Graph's `2026-05-01T12:00:00+0000`."""
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z").astimezone(UTC)
    except ValueError:
        return None


def same_text(a: str | None, b: str) -> bool:
    return " ".join((a or "").split()) == " ".join(b.split())


class GraphConnector(Connector):
    """Base of the Instagram, Facebook and Threads connectors (one Graph dialect)."""

    default_api_version: ClassVar[str] = "v25.0"
    usage_block_pct: ClassVar[float] = 90.0  # back off at >= ~90 % of any usage figure
    usage_backoff_s: ClassVar[float] = 600.0  # when a header says "full" without a regain time
    throttle_default_s: ClassVar[float] = 900.0  # throttled without any header: back off >= 15 min
    quota_retry_s: ClassVar[float] = 3600.0  # publish quota hit without knowing when a slot frees
    refresh_grant: ClassVar[str | None] = None  # ig_refresh_token / th_refresh_token
    # Container flow endpoints and fields (Instagram values; Threads overrides).
    media_list: ClassVar[str] = "media"  # create containers (POST) and list the account's posts (GET)
    publish_endpoint: ClassVar[str] = "media_publish"
    quota_endpoint: ClassVar[str] = "content_publishing_limit"
    container_fields: ClassVar[str] = "status_code,status"  # the first one carries the state
    text_field: ClassVar[str] = "caption"
    user_option: ClassVar[str] = "ig_user_id"
    channel_options: ClassVar[frozenset[str]] = Connector.channel_options | {"api_version"}
    media_metrics: ClassVar[tuple[str, ...]] = ()
    list_limit: ClassVar[int] = 100  # `limit` per page when reading the account's posts (Graph allows 100)

    poll_interval_s: float = 3.0  # Meta advises polling containers about once a minute, for 5 min

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rejected_metrics: set[str] = set()  # refused with code 100; not asked again

    # -- tokens and HTTP ----------------------------------------------------------------------

    @property
    def user(self) -> str:
        """The account id from the channel options, else `me` (resolved by the token)."""
        return str(self.channel.options.get(self.user_option, "me"))

    @property
    def api(self) -> str:
        return str(self.channel.options.get("api_version", self.default_api_version)).strip("/")

    def token(self) -> str:
        """The refreshed token if one was saved for the env token still configured, else the env token."""
        env_token = self.secret("token")
        saved = self.credentials.load(self.channel.name)
        if saved.get("access_token") and saved.get("env_sha") == _sha(env_token):
            return str(saved["access_token"])
        return env_token

    def token_expires_at(self) -> datetime | None:
        saved = self.credentials.load(self.channel.name)
        expires = saved.get("expires_at")
        return datetime.fromtimestamp(int(expires), UTC) if expires else None

    def graph(self, method: str, path: str, **kwargs: Any) -> Any:
        """One Graph call under /{version}/ with the channel's token; returns the decoded JSON."""
        headers = {"Authorization": f"Bearer {self.token()}", **kwargs.pop("headers", {})}
        response = self.request(method, f"/{self.api}/{path.lstrip('/')}", headers=headers, **kwargs)
        return self.json_or_empty(response)

    def refresh_credentials(self) -> datetime | None:
        """Long-lived token refresh (`GET /refresh_access_token`); the new token is saved and used."""
        if self.refresh_grant is None:
            return None
        body = self.json_or_empty(self.request("GET", "/refresh_access_token", params={
            "grant_type": self.refresh_grant, "access_token": self.token()}))
        new_token, expires_in = body.get("access_token"), int(body.get("expires_in") or 0)
        if not new_token:
            raise TransientError(self.channel.name, "token refresh answered without a token")
        expires_at = self.clock() + timedelta(seconds=expires_in) if expires_in else None
        self.credentials.save(self.channel.name, {
            "access_token": new_token, "env_sha": _sha(self.secret("token")),
            "expires_at": int(expires_at.timestamp()) if expires_at else None})
        return expires_at

    # -- errors and usage headers ---------------------------------------------------------------

    def classify(self, response: requests.Response, *, write: bool) -> ConnectorError | None:
        body = self.json_or_empty(response)
        error = body.get("error") if isinstance(body, dict) else None
        debug = body.get("debug_info") if isinstance(body, dict) else None
        if isinstance(debug, dict):  # rupload's envelope: follow its `retriable`
            text = f"upload refused: {debug.get('message') or debug.get('type') or 'unknown'}"
            if debug.get("retriable"):
                return TransientError(self.channel.name, text, ambiguous=write, http_status=response.status_code)
            return ContentRejected(self.channel.name, text, http_status=response.status_code)
        if not isinstance(error, dict):
            return self.default_classify(response, write=write)
        name, status = self.channel.name, response.status_code
        try:
            code = int(error.get("code"))
        except (TypeError, ValueError):
            code = 0
        sub = error.get("error_subcode")
        label = f"{code}/{sub}" if sub else str(code)
        message = str(error.get("message") or "Graph API error")
        detail = error.get("error_user_msg")
        text = f"{message} ({detail})" if detail and detail not in message else message
        text = f"{text} [code {label}]"
        kw: dict[str, Any] = {"http_status": status, "code": label}
        if sub == SPAM:
            return ContentRejected(name, f"{text}; Instagram restricts this account for spam, "
                                   "do not retry soon", **kw)
        if code in THROTTLE_CODES:
            return RateLimited(name, f"rate limited: {text}", retry_after_s=self.throttle_wait_s(),
                               reset_at=self.blocked_until, **kw)
        if (code, sub) == QUOTA or code == QUOTA[0]:
            wait = self.quota_retry_s
            return RateLimited(name, f"publishing quota reached: {text}", retry_after_s=wait,
                               reset_at=self.clock() + timedelta(seconds=wait), **kw)
        if code in AUTH_CODES:
            return AuthError(name, f"{text}; check the token for channel {name}", **kw)
        if (code, sub) == NOT_READY or code == NOT_READY[0]:
            return TransientError(name, f"media not ready yet: {text}", **kw)
        if code in TRANSIENT_CODES or error.get("is_transient") is True or status >= 500:
            return TransientError(name, text, ambiguous=write, **kw)
        if code == 368:
            return ContentRejected(name, f"{text}; temporarily blocked for policy reasons, a person "
                                   "should look before posting again", **kw)
        return ContentRejected(name, text, **kw)

    def throttle_wait_s(self) -> float:
        if self.blocked_until is not None:
            return max(0.0, (self.blocked_until - self.clock()).total_seconds())
        return self.throttle_default_s

    def find_listed(self, edge: str, text: str, *, since: datetime | None, text_field: str, time_field: str,
                    url_field: str, query: dict[str, Any] | None = None) -> PublishResult | None:
        """The newest node on a newest-first listing whose text is exactly `text`, created since
        `since`. Pages back with `after=` while Graph gives a `next` page, until a page reaches back
        past `since` (only the first page without it), at most `max_pages` pages."""
        params = {"fields": f"id,{text_field},{time_field},{url_field}", "limit": self.list_limit,
                  **(query or {})}
        for _ in range(self.max_pages):
            body = self.graph("GET", edge, params=params)
            times = []
            for node in body.get("data") or []:
                at = parse_graph_time(node.get(time_field))
                if same_text(node.get(text_field), text) and (since is None or at is None or at >= since):
                    return self.result(node, url_field=url_field, time_field=time_field)
                if at is not None:
                    times.append(at)
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if since is None or (times and min(times) < since) or not paging.get("next") or not after:
                return None
            params["after"] = after  # not the `next` URL itself: it names Graph's host, not our base_url
        log.warning("%s: read %d pages of %s without reaching back to %s; an older match is not seen",
                    self.channel.name, self.max_pages, edge.split("/")[-1], since.isoformat() if since else "")
        return None

    def note_rate_limit(self, response: requests.Response) -> None:
        """Block when any usage figure is >= ~90 % or Meta names a time to regain access (minutes)."""
        entries: list[dict[str, Any]] = []
        for header in USAGE_HEADERS:
            raw = response.headers.get(header)
            if not raw:
                continue
            try:
                value = json.loads(raw)
            except ValueError:
                continue
            if header == "X-Business-Use-Case-Usage" and isinstance(value, dict):
                entries += [e for items in value.values() if isinstance(items, list)
                            for e in items if isinstance(e, dict)]
            elif isinstance(value, dict):
                entries.append(value)
        if not entries:
            return
        until: datetime | None = None
        for entry in entries:
            pct = max(_number(entry.get(k)) for k in ("call_count", "total_cputime", "total_time"))
            regain_min = _number(entry.get("estimated_time_to_regain_access"))
            wait_s = bounded_wait(regain_min * 60) if regain_min > 0 else (
                self.usage_backoff_s if pct >= self.usage_block_pct else 0.0)
            if wait_s > 0:
                candidate = self.clock() + timedelta(seconds=wait_s)
                until = candidate if until is None else max(until, candidate)
        self.blocked_until = until

    # -- shared flow pieces -----------------------------------------------------------------------

    def one_image(self, req: PublishRequest) -> MediaItem | None:
        if len(req.media) > self.max_images:
            raise ContentRejected(self.channel.name, f"{len(req.media)} images; this connector sends "
                                  f"{self.max_images} per post")
        return req.media[0] if req.media else None

    def public_url(self, item: MediaItem) -> str:
        if not item.public_url:
            what = "videos" if item.mime_type.startswith("video/") else "images"
            raise ContentRejected(self.channel.name, f"{item.path}: {self.platform} fetches {what} "
                                  f"from a public URL and this one has none; set [media] "
                                  "public_base_url in outreach.toml to a host that serves the media directory")
        return item.public_url

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """`media_metrics` per post from its insights; a post that is gone is left out."""
        metrics: dict[str, dict[str, int]] = {}
        for remote_id in remote_ids:
            try:
                metrics[remote_id] = self.insights(remote_id, self.media_metrics)
            except ContentRejected as exc:
                if not (exc.code or "").startswith("100/"):  # 100/33: deleted, nothing to count
                    raise
        return metrics

    def insights(self, node: str, metrics: Sequence[str], *, edge: str = "insights", **params: Any) -> dict[str, int]:
        """`GET /{node}/insights` (or another insights `edge`, e.g. a video's `video_insights`). One bad
        metric fails the whole request (code 100), so on 100 each metric is asked alone, the refused
        ones are remembered and skipped from then on."""
        wanted = [m for m in metrics if m not in self.rejected_metrics]
        if not wanted:
            return {}
        try:
            return self._insight_values(node, wanted, edge=edge, **params)
        except ContentRejected as exc:
            if exc.code != "100":  # 100 with a subcode (e.g. 100/33: no such object) is not about metrics
                raise
            if len(wanted) == 1:
                self.rejected_metrics.add(wanted[0])
                return {}
        values: dict[str, int] = {}
        for metric in wanted:
            try:
                values.update(self._insight_values(node, [metric], edge=edge, **params))
            except ContentRejected as exc:
                if exc.code != "100":
                    raise
                self.rejected_metrics.add(metric)
        return values

    def _insight_values(self, node: str, metrics: Sequence[str], *, edge: str = "insights",
                        **params: Any) -> dict[str, int]:
        body = self.graph("GET", f"{node}/{edge}", params={"metric": ",".join(metrics), **params})
        values: dict[str, int] = {}
        for item in body.get("data") or []:
            value = (item.get("values") or [{}])[-1].get("value") if "values" in item \
                else (item.get("total_value") or {}).get("value")
            if isinstance(value, dict):  # e.g. reactions by type: flatten to name:key
                values.update({f"{item['name']}:{k}": int(v) for k, v in value.items()
                               if isinstance(v, int | float)})
            elif isinstance(value, int | float):
                values[item["name"]] = int(value)
        return values

    def audience_rows(self, body: dict[str, Any], *, timeframe: str | None) -> list[AudienceRow]:
        """`total_value.breakdowns[].results[]` -> one AudienceRow per age (and gender) cell."""
        rows = []
        for item in body.get("data") or []:
            for breakdown in (item.get("total_value") or {}).get("breakdowns") or []:
                keys = breakdown.get("dimension_keys") or []
                for result in breakdown.get("results") or []:
                    dims = dict(zip(keys, result.get("dimension_values") or [], strict=False))
                    if "age" not in dims and "gender" not in dims:
                        continue
                    rows.append(AudienceRow(metric=item["name"], value=float(result.get("value") or 0),
                                            age_bucket=dims.get("age"), gender=dims.get("gender"),
                                            timeframe=timeframe))
        return rows

    def since(self, req: PublishRequest) -> datetime | None:
        if req.attempt_started_at is None:
            return None
        return req.attempt_started_at - timedelta(seconds=self.reconcile_skew_s)

    @staticmethod
    def result(node: dict[str, Any], *, url_field: str, time_field: str, **raw: Any) -> PublishResult:
        return PublishResult(remote_id=str(node["id"]), url=node.get(url_field),
                             published_at=parse_graph_time(node.get(time_field)), raw={**node, **raw})


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0
