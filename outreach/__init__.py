"""outreach: campaign and outreach orchestrator for NGO coalitions."""

from __future__ import annotations

__version__ = "0.1.0"
