"""Settings from outreach.toml plus environment overrides. Secrets only by env-var name."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from outreach import platforms
from outreach.domain import Platform
from outreach.errors import ConfigError
from outreach.inputs import TooLarge, read_limited

DEFAULT_CONFIG_PATH = "outreach.toml"
DEFAULT_DATABASE_URL = "sqlite:///outreach.db"
DEFAULT_TIMEZONE = "Europe/Amsterdam"
MAX_CONFIG_BYTES = 1_000_000

# Every key outreach.toml may hold, in one place: an unknown key is refused naming table and key
# (a typo must not silently fall back to a default, nor a pasted `api_key = "…"` be kept).
TOP_LEVEL_KEYS = frozenset({"timezone", "state_dir", "campaigns_dir", "database", "worker", "media", "channels",
                            "harvest", "youth", "privacy", "programme", "alerts", "archive", "dashboard"})
TABLE_KEYS: dict[str, frozenset[str]] = {
    "database": frozenset({"url", "url_env"}),
    "harvest": frozenset({"cadence", "then_every", "until", "audience_every"}),
    "youth": frozenset({"young", "audience_metrics"}),
    "privacy": frozenset({"threshold"}),
    "programme": frozenset({"meetings_target", "years", "start"}),
    "alerts": frozenset({"urls", "urls_env", "token_warning_days"}),
    "archive": frozenset({"capture", "capture_permalinks"}),
    "dashboard": frozenset({"users"}),
}
# Values other packages read lazily, checked here at load so a typo fails every command at once.
_WHOLE = (int, "a whole number from 1 to 1,000,000")
_YES_NO = (bool, "true or false")
TABLE_VALUES: dict[tuple[str, str], tuple[type, str]] = {
    ("privacy", "threshold"): _WHOLE, ("programme", "meetings_target"): _WHOLE, ("programme", "years"): _WHOLE,
    ("alerts", "token_warning_days"): _WHOLE, ("archive", "capture"): _YES_NO,
    ("archive", "capture_permalinks"): _YES_NO,
}
_SECRET_WORDS = ("token", "password", "secret", "api_key", "apikey", "key", "access_token", "refresh_token",
                 "client_secret", "credentials")


class MissingSecret(ConfigError):
    """A channel's secret env var is not set. Names the channel and the variable, never a value."""

    def __init__(self, channel: str, detail: str) -> None:
        self.channel, self.detail = channel, detail
        super().__init__(f"channel {channel}: {detail}")


@dataclass(frozen=True)
class ChannelConfig:
    """A named account on one platform. `options` holds platform-specific keys (account ids, versions)."""

    name: str
    platform: Platform
    base_url: str
    options: dict[str, Any] = field(default_factory=dict)
    secret_envs: dict[str, str] = field(default_factory=dict)  # "token" -> "PEER_MASTODON_TOKEN"

    def secret(self, key: str = "token", *, environ: dict[str, str] | None = None) -> str:
        env = os.environ if environ is None else environ
        var = self.secret_envs.get(key)
        if var is None:
            raise MissingSecret(self.name, f"no {key}_env configured in outreach.toml")
        value = env.get(var, "")
        if not value:
            raise MissingSecret(self.name, f"environment variable {var} is not set")
        return value

    def has_secret(self, key: str = "token") -> bool:
        var = self.secret_envs.get(key)
        return bool(var and os.environ.get(var))

    def secret_values(self) -> list[str]:
        """Every configured secret value (for scrubbing logs, captures and exports)."""
        return [os.environ[v] for v in self.secret_envs.values() if os.environ.get(v)]


@dataclass(frozen=True)
class RetrySettings:
    max_attempts: int = 8
    backoff_base_s: float = 60.0
    backoff_factor: float = 2.0
    backoff_max_s: float = 3600.0


@dataclass(frozen=True)
class WorkerSettings:
    dispatch_interval_s: float = 30.0
    lease_s: float = 30.0  # renewed while a publish runs; after a kill -9 the post waits this long
    claim_batch: int = 20  # due posts claimed per transaction (1: one at a time)
    http_timeout_s: float = 10.0  # lease_s must be at least 3 × this (publishing/leases.py)
    harvest_interval_s: float = 300.0  # how often the worker looks for due metrics snapshots
    heartbeat_interval_s: float = 30.0  # a worker silent for 3 intervals is reported dead
    alerts_interval_s: float = 60.0
    retry: RetrySettings = field(default_factory=RetrySettings)


@dataclass(frozen=True)
class MediaSettings:
    """Where rendered/stripped media are written and, for platforms that pull by URL, served from."""

    directory: str = ".outreach/media"
    public_base_url: str | None = None
    asset_dirs: tuple[str, ...] = ()  # folders besides a campaign's own that its `image:` may point into


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    timezone: str = DEFAULT_TIMEZONE
    channels: dict[str, ChannelConfig] = field(default_factory=dict)
    worker: WorkerSettings = field(default_factory=WorkerSettings)
    media: MediaSettings = field(default_factory=MediaSettings)
    state_dir: str = ".outreach"
    campaigns_dir: str = "campaigns"
    source: str | None = None  # the file these settings came from
    # The whole parsed document, for tables owned by other packages ([harvest], [youth], [privacy],
    # [programme], [dashboard]); they parse and validate their own part.
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    def channel(self, name: str) -> ChannelConfig:
        try:
            return self.channels[name]
        except KeyError:
            raise ConfigError(self.unknown_channel(name)) from None

    def unknown_channel(self, name: str) -> str:
        """What to tell someone who named a channel this config does not have."""
        if self.channels:
            return f"unknown channel {name!r} (known: {', '.join(sorted(self.channels))})"
        if self.source == "defaults":  # no config file was found: the likely cause, said once per line
            return (f"unknown channel {name!r}: no channels configured — no outreach.toml here "
                    "(pass --config FILE or set OUTREACH_CONFIG)")
        return f"unknown channel {name!r}: {self.source} configures no channels"

    def secret_values(self) -> list[str]:
        return [v for c in self.channels.values() for v in c.secret_values()]


def _channel(name: str, raw: dict[str, Any], source: str) -> ChannelConfig:
    where = f"{source}: [channels.{name}]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table")
    platform = raw.get("platform")
    try:
        platform = Platform(platform)
    except ValueError:  # the names come from outreach.platforms: a new platform's line is all it takes
        allowed = ", ".join((*platforms.names(), Platform.MANUAL))
        raise ConfigError(f"{where} platform = {platform!r} is not one of: {allowed}") from None
    base_url = raw.get("base_url", "")
    if platform != Platform.MANUAL and not base_url:
        raise ConfigError(f"{where} needs base_url")
    secret_envs: dict[str, str] = {}
    options: dict[str, Any] = {}
    for key, value in raw.items():
        if key in ("platform", "base_url"):
            continue
        if key.endswith("_env"):
            secret_envs[key[: -len("_env")]] = str(value)
        elif key in _SECRET_WORDS:
            raise ConfigError(f"{where} {key}: secrets are never written in the config; use {key}_env = \"VAR\"")
        else:  # which keys a platform takes is its connector's `channel_options`: checked by
            if key == "poll_interval_s" and (isinstance(value, bool) or not isinstance(value, int | float)
                                             or not 0 <= value <= 600):
                raise ConfigError(f"{where} poll_interval_s = {value!r}: seconds between two status checks "
                                  "of one publish, a number from 0 to 600")
            options[key] = value  # outreach.connectors.check_channel_options once settings are loaded
    _no_password_in_url(f"{where} base_url", str(base_url), "token_env = \"VAR\" (or the platform's other *_env keys)")
    return ChannelConfig(name=name, platform=platform, base_url=str(base_url).rstrip("/"),
                         options=options, secret_envs=secret_envs)


def _section(cls: type[Any], raw: dict[str, Any], where: str, **given: Any) -> Any:
    """A settings table as its dataclass: unknown keys and numbers that are not positive numbers of the
    right kind are refused, naming the table and the key."""
    known = {f.name: f.default for f in fields(cls) if f.name not in given}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(f"{where}: unknown setting {', '.join(map(repr, unknown))} (known: {', '.join(known)})")
    for key, value in raw.items():
        default = known[key]
        if isinstance(default, int | float) and not isinstance(default, bool):
            whole = isinstance(default, int)
            if isinstance(value, bool) or not isinstance(value, int if whole else int | float) or value <= 0:
                raise ConfigError(f"{where} {key}: expected a positive {'whole number' if whole else 'number'}, "
                                  f"got {value!r}")
    return cls(**raw, **given)


def _no_password_in_url(where: str, url: str, alternative: str) -> None:
    """Refuse a URL that carries a password or a secret-looking query parameter."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        raise ConfigError(f"{where}: not a valid URL") from None
    query_keys = {k.split("=", 1)[0].lower() for k in parts.query.split("&") if k}
    if password or query_keys & set(_SECRET_WORDS):
        raise ConfigError(f"{where}: the URL holds a password or token, and secrets are never written in the "
                          f"config; remove it here and give the whole URL in an environment variable instead: "
                          f"{alternative}")


def _check_keys(data: dict[str, Any], source: str) -> None:
    unknown = sorted(set(data) - TOP_LEVEL_KEYS)
    if unknown:
        raise ConfigError(f"{source}: unknown setting {unknown[0]!r} at the top level "
                          f"(known: {', '.join(sorted(TOP_LEVEL_KEYS))})")
    for table, known in TABLE_KEYS.items():
        if table not in data:
            continue
        if not isinstance(data[table], dict):
            raise ConfigError(f"{source}: [{table}] must be a table")
        extra = sorted(set(data[table]) - known)
        if extra:
            raise ConfigError(f"{source}: [{table}]: unknown setting {extra[0]!r} (known: {', '.join(sorted(known))})")
    for (table, key), (kind, words) in TABLE_VALUES.items():
        value = data.get(table, {}).get(key)
        wrong = value is not None and (not isinstance(value, kind) or (
            kind is int and (isinstance(value, bool) or not 1 <= value <= 1_000_000)))
        if wrong:
            raise ConfigError(f"{source}: [{table}] {key}: expected {words}, got {str(value)[:40]!r}")
    start = data.get("programme", {}).get("start")
    if isinstance(start, str):
        try:
            datetime.fromisoformat(start)
        except ValueError:
            raise ConfigError(f"{source}: [programme] start: {start[:40]!r} is not a date like 2026-01-01") from None
    for key in ("worker", "media", "channels"):
        if key in data and not isinstance(data[key], dict):
            raise ConfigError(f"{source}: [{key}] must be a table")


def _timezone(value: Any, where: str) -> str:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}: unknown time zone {value!r} (e.g. \"Europe/Amsterdam\")") from None
    return str(value)


def _database_url(db: dict[str, Any], env: Any, source: str) -> str:
    where = f"{source}: [database]"
    if env.get("OUTREACH_DATABASE_URL"):
        return str(env["OUTREACH_DATABASE_URL"])
    if "url_env" in db:
        value = env.get(str(db["url_env"]), "")
        if not value:
            raise ConfigError(f"{where} url_env: environment variable {db['url_env']} is not set")
        return str(value)
    url = str(db.get("url") or DEFAULT_DATABASE_URL)
    _no_password_in_url(f"{where} url", url, 'url_env = "OUTREACH_DB_URL" (or set OUTREACH_DATABASE_URL)')
    return url


def _relative_to(base: Path | None, value: str) -> str:
    """A relative path in the config means relative to the config file, wherever the command runs."""
    if base is None or not value or Path(value).is_absolute():
        return value
    return str(base / value)


def _sqlite_relative_to(base: Path | None, url: str) -> str:
    if base is None or not url.startswith("sqlite") or ":///" not in url:
        return url
    head, path = url.split(":///", 1)
    if not path or path.startswith((":memory:", "/", "file:")):
        return url
    return f"{head}:///{base / path}"


def parse_settings(data: dict[str, Any], *, source: str = "<config>",
                   environ: dict[str, str] | None = None, base_dir: Path | None = None) -> Settings:
    """Settings from a parsed outreach.toml. `base_dir` (the config file's folder) anchors relative
    paths: the SQLite file, state_dir, campaigns_dir and [media] directory."""
    env = os.environ if environ is None else environ
    _check_keys(data, source)
    db = data.get("database", {})
    worker_raw = dict(data.get("worker", {}))
    retry = _section(RetrySettings, worker_raw.pop("retry", {}), f"{source}: [worker.retry]")
    worker = _section(WorkerSettings, worker_raw, f"{source}: [worker]", retry=retry)
    media = _section(MediaSettings, data.get("media", {}), f"{source}: [media]")
    if not isinstance(media.asset_dirs, list | tuple) or not all(isinstance(d, str) for d in media.asset_dirs):
        raise ConfigError(f"{source}: [media] asset_dirs: expected a list of folders, got {media.asset_dirs!r}")
    media = MediaSettings(directory=_relative_to(base_dir, media.directory), public_base_url=media.public_base_url,
                          asset_dirs=tuple(_relative_to(base_dir, d) for d in media.asset_dirs))
    channels = {name: _channel(name, raw, source) for name, raw in data.get("channels", {}).items()}
    alerts = data.get("alerts", {})
    for i, url in enumerate(alerts.get("urls", []) if isinstance(alerts.get("urls", []), list) else []):
        _no_password_in_url(f"{source}: [alerts] urls[{i}]", str(url), 'urls_env = "OUTREACH_ALERT_URLS"')
    from_env = bool(env.get("OUTREACH_DATABASE_URL"))
    url = _database_url(db, env, source)
    return Settings(
        database_url=url if from_env else _sqlite_relative_to(base_dir, url),
        timezone=_timezone(data.get("timezone", DEFAULT_TIMEZONE), f"{source}: timezone"),
        channels=channels,
        worker=worker,
        media=media,
        state_dir=_relative_to(base_dir, str(data.get("state_dir", ".outreach"))),
        campaigns_dir=_relative_to(base_dir, str(data.get("campaigns_dir", "campaigns"))),
        source=source,
        raw=dict(data),
    )


def load_settings(path: str | os.PathLike[str] | None = None, *,
                  environ: dict[str, str] | None = None) -> Settings:
    """Read outreach.toml (or OUTREACH_CONFIG); a missing default file gives the built-in defaults."""
    env = os.environ if environ is None else environ
    explicit = path or env.get("OUTREACH_CONFIG")
    file = Path(explicit or DEFAULT_CONFIG_PATH)
    if not file.exists():
        if explicit:
            raise ConfigError(f"config file {file} does not exist")
        return parse_settings({}, source="defaults", environ=env)
    try:
        data = tomllib.loads(read_limited(file, MAX_CONFIG_BYTES).decode("utf-8"))
    except TooLarge:
        raise ConfigError(f"{file}: larger than {MAX_CONFIG_BYTES:,} bytes; is this really outreach.toml?") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{file}: cannot read: save the file as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror or exc}") from None
    return parse_settings(data, source=str(file), environ=env, base_dir=file.resolve().parent)


def dump_toml(data: dict[str, Any], *, header: str = "") -> str:
    """The settings `parse_settings` reads, written back as TOML (tables of strings, numbers,
    booleans and lists): for the demo's config and the benchmarks'. Python reads TOML but
    does not write it."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        if isinstance(v, list | tuple):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'

    def key(k: str) -> str:
        return k if k.replace("_", "").replace("-", "").isalnum() else '"' + k.replace('"', '\\"') + '"'

    lines = [f"# {line}" for line in header.splitlines()]
    lines += [f"{key(k)} = {value(v)}" for k, v in data.items() if not isinstance(v, dict)]

    def table(name: str, body: dict[str, Any]) -> None:
        scalars = {k: v for k, v in body.items() if not isinstance(v, dict)}
        if scalars:
            lines.extend(["", f"[{name}]", *(f"{key(k)} = {value(v)}" for k, v in scalars.items())])
        for k, v in body.items():
            if isinstance(v, dict):
                table(f"{name}.{key(k)}", v)

    for k, v in data.items():
        if isinstance(v, dict):
            table(key(k), v)
    return "\n".join(lines) + "\n"
