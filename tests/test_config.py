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


@pytest.mark.parametrize(("data", "message"), [
    ({"worker": {"claim_btach": 5}}, r"outreach.toml: \[worker\]: unknown setting 'claim_btach' \(known: .*claim_batch"),
    ({"worker": {"claim_batch": "veel"}}, r"\[worker\] claim_batch: expected a positive whole number, got 'veel'"),
    ({"worker": {"claim_batch": 0}}, r"\[worker\] claim_batch: expected a positive whole number, got 0"),
    ({"worker": {"lease_s": -5}}, r"\[worker\] lease_s: expected a positive number, got -5"),
    ({"worker": {"retry": {"max_attempts": 2.5}}}, r"\[worker.retry\] max_attempts: expected a positive whole"),
    ({"worker": {"http_timeout_s": True}}, r"\[worker\] http_timeout_s: expected a positive number, got True"),
    ({"media": {"public_url": "https://x"}}, r"\[media\]: unknown setting 'public_url' \(known: directory, "),
])
def test_a_bad_worker_or_media_setting_names_the_table_and_the_key(data: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_settings(data, source="outreach.toml")


def test_numbers_of_the_right_kind_are_taken_as_written() -> None:
    settings = parse_settings({"worker": {"lease_s": 120, "http_timeout_s": 2.5, "claim_batch": 1,
                                          "retry": {"max_attempts": 3}}})
    assert (settings.worker.lease_s, settings.worker.http_timeout_s, settings.worker.claim_batch,
            settings.worker.retry.max_attempts) == (120, 2.5, 1, 3)


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


def test_an_unknown_channel_is_explained_by_what_the_config_holds(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from outreach.config import load_settings

    some = parse_settings({"channels": {"peer-mastodon": {"platform": "mastodon", "base_url": "https://m.example",
                                                          "token_env": "T"}}}, source="outreach.toml")
    assert some.unknown_channel("peer-mastdon") == "unknown channel 'peer-mastdon' (known: peer-mastodon)"
    assert (parse_settings({}, source="site.toml").unknown_channel("x")
            == "unknown channel 'x': site.toml configures no channels")
    monkeypatch.chdir(tmp_path)  # no outreach.toml here, none named: the defaults
    monkeypatch.delenv("OUTREACH_CONFIG", raising=False)
    with pytest.raises(ConfigError) as raised:
        load_settings().channel("peer-mastodon")
    assert str(raised.value) == ("unknown channel 'peer-mastodon': no channels configured — no outreach.toml here "
                                 "(pass --config FILE or set OUTREACH_CONFIG)")
