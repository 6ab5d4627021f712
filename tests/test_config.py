"""Configuration: secrets only by env-var name, clear errors, and a TOML writer that round-trips."""

from __future__ import annotations

import tomllib

import pytest

from outreach.config import ConfigError, MissingSecret, dump_toml, parse_settings


def test_a_secret_written_in_the_config_is_refused_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"\[channels.peer-mastodon\] token: secrets are never written"):
        parse_settings({"channels": {"peer-mastodon": {"platform": "mastodon", "base_url": "https://m.example",
                                                       "token": "abc"}}}, source="outreach.toml")


def test_unknown_platform_and_missing_secret_name_channel_and_variable() -> None:
    with pytest.raises(ConfigError, match="platform = 'myspace' is not one of: mastodon"):
        parse_settings({"channels": {"x": {"platform": "myspace", "base_url": "https://x"}}})
    settings = parse_settings({"channels": {"peer-bluesky": {"platform": "bluesky", "base_url": "https://b",
                                                             "password_env": "UNSET_VAR_FOR_TEST"}}},
                              environ={})
    with pytest.raises(MissingSecret, match="channel peer-bluesky: environment variable UNSET_VAR_FOR_TEST"):
        settings.channel("peer-bluesky").secret("password", environ={})


def test_dump_toml_round_trips_what_parse_settings_reads() -> None:
    data = {"state_dir": "/srv/outreach state", "database": {"url": "sqlite:///a.db"},
            "worker": {"lease_s": 120.0, "retry": {"max_attempts": 5}},
            "channels": {"peer-mastodon": {"platform": "mastodon", "base_url": "https://m", "token_env": "T",
                                           "visibility": "unlisted"},
                         'odd "name".x': {"platform": "manual", "tags": ["a", 1], "flag": True}}}
    text = dump_toml(data, header="written by a test")
    assert text.startswith("# written by a test\n")
    assert tomllib.loads(text) == data
    settings = parse_settings(tomllib.loads(text), environ={})
    assert settings.worker.retry.max_attempts == 5 and settings.channel("peer-mastodon").options == {
        "visibility": "unlisted"}
