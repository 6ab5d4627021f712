"""The media-container flow Instagram and Threads share: create a container (its id saved first), send
its bytes when the container waits for them, poll its status, publish it; a `PUBLISHED` container means
the post exists. Also the publishing quota read before creating one (platforms.md §2.3, §3; video.md §3, §5).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from outreach.connectors.base import SaveHandle
from outreach.connectors.errors import ConnectorError, ContentRejected, RateLimited, TransientError
from outreach.connectors.meta import GraphConnector, parse_graph_time
from outreach.domain import PublishRequest, PublishResult

# Container ERROR subcodes after which a new container may well work (platforms.md §2.3).
RETRYABLE_SUBCODES = ("2207001", "2207003", "2207020", "2207032", "2207053")
# Threads' video `error_message`s worth a new container (video.md §5); INVALID_* are refusals.
TRANSIENT_VIDEO_ERRORS = ("FAILED_DOWNLOADING_VIDEO", "FAILED_PROCESSING_VIDEO", "FAILED_PROCESSING_AUDIO",
                          "UNKNOWN")
Upload = Callable[[dict[str, Any]], None]  # sends a container's bytes, given the saved handle


class ContainerStatus(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    FINISHED = "FINISHED"
    PUBLISHED = "PUBLISHED"
    ERROR = "ERROR"
    EXPIRED = "EXPIRED"


class ContainerConnector(GraphConnector):
    """Base of the Instagram and Threads connectors."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.last_container: dict[str, Any] = {}  # the last container status read (for messages)

    def quota_wait_s(self, duration_s: int) -> float:
        """Until the rolling window frees a slot: the oldest post inside it, plus the window."""
        try:
            body = self.graph("GET", f"{self.user}/{self.media_list}", params={"fields": "id,timestamp",
                                                                                "limit": 100})
        except ConnectorError:
            return self.quota_retry_s
        now, window = self.clock(), timedelta(seconds=duration_s)
        times = [t for t in (parse_graph_time(m.get("timestamp")) for m in body.get("data") or [])
                 if t is not None and now - t < window]
        return max(60.0, (min(times) + window - now).total_seconds()) if times else self.quota_retry_s

    def find_published(self, text: str, *, since: datetime | None) -> PublishResult | None:
        """The newest post on the account's own list with exactly this text (after `since`)."""
        return self.find_listed(f"{self.user}/{self.media_list}", text, since=since, text_field=self.text_field,
                                time_field="timestamp", url_field="permalink")

    def publish_container(self, req: PublishRequest, save_handle: SaveHandle, *, text: str,
                          create: dict[str, Any], upload: Upload | None = None) -> PublishResult:
        """The two-phase flow: reuse a saved container while it can still be published, else create
        one and save its id first; `upload` the bytes if the container waits for them (saved as done
        once they are in); poll it; publish it; read back the permalink."""
        container, handle = req.handle.get("container_id"), dict(req.handle)
        status: ContainerStatus | None = None
        if container:
            status = self.container_status(container)
            if status is ContainerStatus.PUBLISHED:
                return self._published(container, text, req)
            if status in (ContainerStatus.EXPIRED, ContainerStatus.ERROR):
                container, status = None, None  # dead; a new one is harmless
        self.check_quota()
        if not container:
            body = self.graph("POST", f"{self.user}/{self.media_list}", write=False, data=create)
            container = str(body["id"])
            # every container key is written: the dispatcher merges handles, a dead container's must go
            fresh = {"upload_uri": body.get("uri"), "uploaded": False} \
                if upload is not None or "upload_uri" in req.handle else {}
            handle = {**req.handle, "container_id": container, **fresh}
            save_handle(handle)
        if upload is not None and status in (None, ContainerStatus.IN_PROGRESS) and not handle.get("uploaded"):
            upload(handle)
            handle = {**handle, "uploaded": True}
            save_handle(handle)
        status = self.wait_for_container(container)
        if status is ContainerStatus.PUBLISHED:
            return self._published(container, text, req)
        if status is not ContainerStatus.FINISHED:
            raise self._container_failed(container, status)
        body = self.graph("POST", f"{self.user}/{self.publish_endpoint}", data={"creation_id": container})
        node = self.graph("GET", str(body["id"]), params={"fields": f"id,{self.text_field},permalink,timestamp"})
        return self.result(node, url_field="permalink", time_field="timestamp", container_id=container)

    def reconcile_container(self, req: PublishRequest, text: str) -> PublishResult | None:
        """After an ambiguous publish: only a PUBLISHED saved container means the post exists."""
        container = req.handle.get("container_id")
        if not container:
            return None  # publishing needs a container id we would have saved first
        if self.container_status(container) is not ContainerStatus.PUBLISHED:
            return None
        return self.find_published(text, since=self.since(req))

    def _published(self, container: str, text: str, req: PublishRequest) -> PublishResult:
        found = self.find_published(text, since=self.since(req))
        if found is None:
            raise TransientError(self.channel.name, f"container {container} is published but the post is "
                                 "not on the account's list yet; will look again")
        return found

    def _container_failed(self, container: str, status: ContainerStatus) -> ConnectorError:
        last = self.last_container
        text = str(last.get("error_message") or last.get("status") or status.value)
        if status is ContainerStatus.EXPIRED or any(code in text for code in RETRYABLE_SUBCODES):
            return TransientError(self.channel.name, f"container {container}: {text}; the next attempt "
                                  "creates a new one")
        if any(word in text for word in TRANSIENT_VIDEO_ERRORS):
            return TransientError(self.channel.name, f"container {container}: {text}; the next attempt "
                                  "creates a new one (check that the media URL is public)")
        return ContentRejected(self.channel.name, f"{self.platform} could not process the media: {text}")

    def wait_for_container(self, container_id: str) -> ContainerStatus:
        """Poll the container until it leaves IN_PROGRESS (bounded); the last status seen."""
        status = ContainerStatus.IN_PROGRESS
        for attempt in range(self.max_polls):
            status = self.container_status(container_id)
            if status is not ContainerStatus.IN_PROGRESS:
                return status
            if attempt + 1 < self.max_polls and self.poll_interval_s > 0:
                self.sleep(self.poll_interval_s)
        raise TransientError(self.channel.name, f"container {container_id} still processing after "
                             f"{self.max_polls} checks; the next attempt continues with it")

    def container_status(self, container_id: str) -> ContainerStatus:
        body = self.graph("GET", container_id, params={"fields": self.container_fields})
        self.last_container = body
        try:
            return ContainerStatus(str(body.get(self.container_fields.split(",")[0])))
        except ValueError:
            return ContainerStatus.ERROR

    def check_quota(self) -> None:
        """Read the publishing quota first; raise RateLimited instead of spending a doomed call."""
        body = self.graph("GET", f"{self.user}/{self.quota_endpoint}", params={"fields": "quota_usage,config"})
        data = (body.get("data") or [{}])[0]
        config = data.get("config") or {}
        total, used = int(config.get("quota_total") or 0), int(data.get("quota_usage") or 0)
        if total and used >= total:
            wait = self.quota_wait_s(int(config.get("quota_duration") or 86400))
            raise RateLimited(self.channel.name, f"publishing quota used up ({used} of {total} in 24 h); "
                              f"next try in {wait / 60:.0f} min", retry_after_s=wait,
                              reset_at=self.clock() + timedelta(seconds=wait), code="quota")
