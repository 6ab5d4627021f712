"""Settings from outreach.toml plus environment overrides. Secrets only by env-var name."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from outreach.domain import Platform

DEFAULT_CONFIG_PATH = "outreach.toml"
DEFAULT_DATABASE_URL = "sqlite:///outreach.db"
DEFAULT_TIMEZONE = "Europe/Amsterdam"


class ConfigError(Exception):
    """A configuration problem a person must fix; the message names the file and key."""


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
    except ValueError:
        allowed = ", ".join(p.value for p in Platform)
        raise ConfigError(f"{where} platform = {platform!r} is not one of: {allowed}") from None
    base_url = raw.get("base_url", "")
    if platform is not Platform.MANUAL and not base_url:
        raise ConfigError(f"{where} needs base_url")
    secret_envs: dict[str, str] = {}
    options: dict[str, Any] = {}
    for key, value in raw.items():
        if key in ("platform", "base_url"):
            continue
        if key.endswith("_env"):
            secret_envs[key[: -len("_env")]] = str(value)
        elif key in ("token", "password", "secret", "access_token", "refresh_token", "client_secret"):
            raise ConfigError(f"{where} {key}: secrets are never written in the config; use {key}_env = \"VAR\"")
        else:
            options[key] = value
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


def parse_settings(data: dict[str, Any], *, source: str = "<config>",
                   environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    db = data.get("database", {})
    worker_raw = dict(data.get("worker", {}))
    retry = _section(RetrySettings, worker_raw.pop("retry", {}), f"{source}: [worker.retry]")
    worker = _section(WorkerSettings, worker_raw, f"{source}: [worker]", retry=retry)
    media = _section(MediaSettings, data.get("media", {}), f"{source}: [media]")
    channels = {name: _channel(name, raw, source) for name, raw in data.get("channels", {}).items()}
    return Settings(
        database_url=env.get("OUTREACH_DATABASE_URL") or db.get("url") or DEFAULT_DATABASE_URL,
        timezone=data.get("timezone", DEFAULT_TIMEZONE),
        channels=channels,
        worker=worker,
        media=media,
        state_dir=data.get("state_dir", ".outreach"),
        campaigns_dir=data.get("campaigns_dir", "campaigns"),
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
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: {exc}") from None
    return parse_settings(data, source=str(file), environ=env)


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
