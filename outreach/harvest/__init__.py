"""Metrics and audience harvesting, youth-reach estimation, meeting outcomes, synthetic history."""

from __future__ import annotations

from outreach.harvest.harvester import (
    AudienceReport,
    ChannelPass,
    HarvestReport,
    audience_due,
    harvest_due,
    next_harvest_at,
)
from outreach.harvest.meetings import ImportReport, OutcomeValues, import_meeting_outcomes, record_outcome
from outreach.harvest.settings import AgeRange, HarvestSettings, harvest_settings, parse_harvest_settings
from outreach.harvest.values import Count, ReachKind, YouthReach, YouthTotals

__all__ = ["AgeRange", "AudienceReport", "ChannelPass", "Count", "HarvestReport", "HarvestSettings",
           "ImportReport", "OutcomeValues", "ReachKind", "YouthReach", "YouthTotals", "audience_due",
           "harvest_due", "harvest_settings", "import_meeting_outcomes", "next_harvest_at",
           "parse_harvest_settings", "record_outcome"]
