"""Database: models, engine and sessions, migrations, repository queries."""

from __future__ import annotations

from outreach.db.engine import Database

__all__ = ["Database"]
