"""Retry policy as a value: how many tries, how long to wait between them. Retries are scheduled."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 8
    backoff_base_s: float = 60.0
    backoff_factor: float = 2.0
    backoff_max_s: float = 3600.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.backoff_base_s < 0 or self.backoff_max_s < self.backoff_base_s:
            raise ValueError("backoff must satisfy 0 <= backoff_base_s <= backoff_max_s")
        if self.backoff_factor < 1:
            raise ValueError("backoff_factor must be at least 1")

    def delay_s(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        return min(self.backoff_max_s, self.backoff_base_s * self.backoff_factor ** max(0, attempt - 1))

    def exhausted(self, attempt: int) -> bool:
        return attempt >= self.max_attempts
