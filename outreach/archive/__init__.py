"""Proof-of-impact archive: WARC captures, BagIt export and verification, the impact report, backups."""

from __future__ import annotations

from outreach.archive.backup import BackupError, BackupReport, backup_database, restore_database
from outreach.archive.captures import PermalinkCapture, WarcRecorder, capture_dir, capture_permalink
from outreach.archive.export import ExportReport, export_archive, period_from_dates
from outreach.archive.report import ReportResult, write_report
from outreach.archive.verify import VerifyReport, verify_archive

__all__ = [
    "BackupError", "BackupReport", "ExportReport", "PermalinkCapture", "ReportResult", "VerifyReport",
    "WarcRecorder", "backup_database", "capture_dir", "capture_permalink", "export_archive",
    "period_from_dates", "restore_database", "verify_archive", "write_report",
]
