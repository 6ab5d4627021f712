"""Publishing: the dispatcher (claim, publish, reconcile, retry), review actions and status."""

from __future__ import annotations

from outreach.publishing.dispatcher import ConnectorCache, Dispatcher, Outcome
from outreach.publishing.retry import RetryPolicy

__all__ = ["ConnectorCache", "Dispatcher", "Outcome", "RetryPolicy"]
