"""Upload capabilities out of stored handles: posts written before upload URLs moved to the worker's
resume files still hold them (YouTube's session URI, TikTok's upload URL, LinkedIn's signed part,
caption and thumbnail URLs and upload token). They are set to None, as a handle read on another machine
has them: the connector asks the platform what exists and starts a new upload where it must.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 16:45:00
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def scrubbed(platform: str, handle: dict[str, Any]) -> dict[str, Any]:
    """`handle` without the values that grant access by themselves (a copy; the rest kept as it is)."""
    out = dict(handle)
    if platform == 'youtube' and out.get('session_uri'):
        out['session_uri'] = None
    if platform == 'tiktok' and out.get('upload_url'):
        out['upload_url'] = None
    video = out.get('video')
    if platform == 'linkedin' and isinstance(video, dict):
        video = dict(video)
        for key in ('token', 'captions_url', 'thumbnail_url'):
            if video.get(key):
                video[key] = None
        video['parts'] = [[None, *part[1:]] if isinstance(part, list) and part else part
                          for part in video.get('parts') or []]
        out['video'] = video
    return out


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, platform, handle FROM posts WHERE platform IN "
                                "('youtube', 'tiktok', 'linkedin') AND handle IS NOT NULL")).all()
    for post_id, platform, raw in rows:
        handle = raw if isinstance(raw, dict) else json.loads(raw or '{}')
        if not isinstance(handle, dict):
            continue
        clean = scrubbed(platform, handle)
        if clean != handle:
            conn.execute(sa.text("UPDATE posts SET handle = :handle WHERE id = :id")
                         .bindparams(sa.bindparam("handle", type_=sa.JSON)), {"handle": clean, "id": post_id})


def downgrade() -> None:  # what was removed is gone (that is the point); the schema is unchanged
    pass
