"""Query strings out of text bound for a log line or an error message.

An upload URL can be a capability by itself: YouTube's resumable session URI (`upload_id=`), TikTok's
`upload_url` (`upload_token=`), LinkedIn's signed `uploadUrl` (`sau=`). `requests` and urllib3 put the
URL they called into their exception texts and debug lines. A query string says little a volunteer
reading a log needs, so every URL or path shown keeps its host and path and loses its query.
"""

from __future__ import annotations

import re

HIDDEN = "***"
# A URL (scheme://host/path) or an absolute path, then `?` and the query (up to a space, quote or bracket).
_QUERY = re.compile(r"(?P<keep>(?:\b[a-zA-Z][\w+.-]*://[^\s/?#\"'<>]+)?/[^\s?#\"'<>()]*)\?[^\s\"'<>#()]+")


def strip_url_queries(text: str) -> str:
    """`text` with the query string of every URL or path in it replaced by `***`."""
    return _QUERY.sub(rf"\g<keep>?{HIDDEN}", text) if "?" in text else text
