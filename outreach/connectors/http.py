"""The HTTP session every connector talks to its platform with.

A plain `requests.Session` reads the environment on every request: the proxy variables twice (to
pick a proxy, then to check NO_PROXY), the CA-bundle variables, and ~/.netrc. On the publishing
path that was the largest cost outside the exchange itself (~0.3 ms of CPU per request here). A
worker's environment does not change while it runs, so `PlatformSession` reads it once per host,
the first time that host is called, and keeps the answer — the same proxies, NO_PROXY exceptions
and CA bundle `requests` would have chosen. Request-level `proxies=`, `verify=`, `cert=` or `stream=`
take requests' own path, unchanged.

~/.netrc never replaces a channel's token: connectors authenticate with the channel's own token, and a
plain session without `auth` swaps an `Authorization` header for a netrc entry for the host (requests'
documented behaviour). The session's `auth` leaves requests as they are, so netrc is not read for
them. (A redirect to another host drops the token, as requests always does; netrc may then supply
credentials for that host.)
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests


def _own_headers(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """Session-level auth that leaves the request as it is (so requests does not look in ~/.netrc)."""
    return request


class PlatformSession(requests.Session):
    """A `requests.Session` that resolves the environment's proxy and CA settings once per host."""

    def __init__(self) -> None:
        super().__init__()
        self.auth = _own_headers
        self._environment: dict[tuple[Any, ...], dict[str, Any]] = {}

    def merge_environment_settings(self, url: str | bytes | None, proxies: Any, stream: Any, verify: Any,
                                   cert: Any) -> dict[str, Any]:
        if proxies or stream is not None or verify is not None or cert is not None or not isinstance(url, str):
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        scheme, host = urlsplit(url)[:2]
        # The session's own settings are part of the key: changing them takes effect at once.
        key = (scheme, host, self.trust_env, tuple(sorted(self.proxies.items())), self.stream, self.verify,
               self.cert)
        settings = self._environment.get(key)
        if settings is None:
            settings = self._environment[key] = super().merge_environment_settings(url, {}, None, None, None)
        return {**settings, "proxies": dict(settings["proxies"])}
