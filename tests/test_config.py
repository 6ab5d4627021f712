"""Configuration: secrets only by env-var name, clear errors, and a TOML writer that round-trips."""

from __future__ import annotations

import inspect
import re
import tomllib
from pathlib import Path

import pytest

from outreach.config import ConfigError, MissingSecret, dump_toml, parse_settings
from outreach.connectors import Connector, check_channel_options, connector_classes
from outreach.connectors.manual import ManualChannel


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
    with pytest.raises(ConfigError, match="unknown setting 'tags'"):  # a manual channel has no such options
        check_channel_options(parse_settings(tomllib.loads(text), environ={}))
    del data["channels"]['odd "name".x']
    settings = parse_settings(tomllib.loads(dump_toml(data)), environ={})
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


def test_relative_paths_are_relative_to_the_config_file_not_the_cwd(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from outreach.config import load_settings

    site, elsewhere = tmp_path / "site", tmp_path / "elsewhere"
    site.mkdir()
    elsewhere.mkdir()
    (site / "outreach.toml").write_text('state_dir = "state"\ncampaigns_dir = "../campaigns"\n'
                                        '[database]\nurl = "sqlite:///data/o.db"\n[media]\ndirectory = "media"\n')
    monkeypatch.chdir(elsewhere)
    settings = load_settings(site / "outreach.toml", environ={})
    assert settings.database_url == f"sqlite:///{site / 'data/o.db'}"
    assert settings.state_dir == str(site / "state") and settings.media.directory == str(site / "media")
    assert settings.campaigns_dir == str(site / "../campaigns")
    absolute = parse_settings({"database": {"url": "sqlite:////srv/o.db"}}, environ={}, base_dir=site)
    assert absolute.database_url == "sqlite:////srv/o.db"
    from_env = load_settings(site / "outreach.toml", environ={"OUTREACH_DATABASE_URL": "sqlite:///x.db"})
    assert from_env.database_url == "sqlite:///x.db"  # the shell's own variable: relative to where it runs


def test_a_command_run_elsewhere_never_creates_an_empty_database(tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from outreach.cli import main
    from outreach.errors import ExitCode

    site, elsewhere = tmp_path / "site", tmp_path / "elsewhere"
    site.mkdir()
    elsewhere.mkdir()
    (site / "outreach.toml").write_text('[database]\nurl = "sqlite:///outreach.db"\n')
    monkeypatch.chdir(elsewhere)
    assert main(["--config", str(site / "outreach.toml"), "status"]) == ExitCode.DATABASE
    assert capsys.readouterr().err.strip() == (f"outreach: error: database {site / 'outreach.db'} does not exist: "
                                               f"run `outreach init` first, or check [database] url in "
                                               f"{site / 'outreach.toml'}")
    assert list(site.iterdir()) == [site / "outreach.toml"] and list(elsewhere.iterdir()) == []
    assert main(["--config", str(site / "outreach.toml"), "init"]) == 0
    assert (site / "outreach.db").exists() and list(elsewhere.iterdir()) == []
    assert main(["--config", str(site / "outreach.toml"), "status"]) == 0


@pytest.mark.parametrize(("data", "message"), [
    ({"database": {"url": "postgresql+psycopg://u:pw@h/db"}}, "[database] url: the URL holds a password"),
    ({"alerts": {"urls": ["mailtos://u:SECRET@mail.example"]}}, "[alerts] urls[0]: the URL holds a password"),
    ({"timezone": "Mars/Olympus"}, "timezone: unknown time zone 'Mars/Olympus'"),
    ({"channels": {"c": {"platform": "mastodon", "base_url": "https://m", "api_key": "k"}}}, "api_key_env"),
    ({"youth": {"yuong": "13-24"}}, "[youth]: unknown setting 'yuong'"),
])
def test_a_config_holding_a_secret_or_an_unknown_key_is_refused(data, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as raised:
        parse_settings(data, environ={})
    assert message in str(raised.value) and "SECRET" not in str(raised.value) and "pw@" not in str(raised.value)


def test_the_database_url_may_come_from_a_named_variable() -> None:
    settings = parse_settings({"database": {"url_env": "DB_URL"}}, environ={"DB_URL": "postgresql+psycopg://u:pw@h/d"})
    assert settings.database_url == "postgresql+psycopg://u:pw@h/d"


def _options_read(path: Path) -> set[str]:
    """The channel option names a module reads: `options.get("x"`, `option("x"` (Google, Meta)."""
    return set(re.findall(r"option(?:s\.get)?\(\s*[\"']([a-z_A-Z]+)[\"']", path.read_text(encoding="utf-8")))


def _platform_modules(cls: type) -> set[Path]:
    """The modules a platform's options are read in: its class and base classes, and its helpers
    (`tiktok_video.py` for TikTok)."""
    folder = Path(inspect.getfile(Connector)).parent
    mro = {Path(inspect.getfile(c)) for c in cls.__mro__ if c.__module__.startswith("outreach.connectors")}
    return mro | set(folder.glob(f"{cls.platform}_*.py"))


@pytest.mark.parametrize("cls", [*connector_classes(), ManualChannel], ids=lambda c: c.platform)
def test_every_channel_option_a_connector_reads_is_a_known_key(cls: type[Connector]) -> None:
    """The unknown-key check must not refuse an option a connector really uses: each option its
    modules read is in its `channel_options` (or, read from a video entry, its `video_options`)."""
    used: set[str] = set()
    for path in _platform_modules(cls):
        used |= _options_read(path)
    used |= {getattr(cls, "user_option", "max_text")}  # MetaConnector reads ig_user_id/threads_user_id by name
    used |= {f"quota_{m.replace('.', '_')}" for m in getattr(cls, "quota_costs", {})}  # Google's quota_<method>
    declared = cls.channel_options | cls.video_options
    assert used <= declared, sorted(used - declared)


def test_every_module_that_reads_channel_options_belongs_to_a_platform() -> None:
    """A helper module reading options that no connector owns would escape the test above."""
    folder = Path(inspect.getfile(Connector)).parent
    owned = set().union(*(_platform_modules(cls) for cls in (*connector_classes(), ManualChannel)))
    readers = {path for path in folder.glob("*.py") if _options_read(path)}
    assert readers <= owned, sorted(p.name for p in readers - owned)
    planning = Path(inspect.getfile(Connector)).parents[1] / "planning"
    used = set().union(*(_options_read(path) for path in planning.glob("*.py")))
    assert used <= Connector.channel_options  # planning reads only what every channel may carry


@pytest.mark.parametrize(("platform", "key", "ok"), [
    ("youtube", "privacy_status", True), ("youtube", "quota_videos_insert", True),
    ("youtube", "privacy_stauts", False), ("youtube", "quota_video_insert", False),
    ("tiktok", "privacy_level", True), ("tiktok", "token_expires_at", True), ("tiktok", "visibility", False),
    ("mastodon", "visibility", True), ("mastodon", "visibilty", False), ("manual", "utm_source", True),
    ("manual", "tags", False),
])
def test_a_channel_key_its_connector_does_not_read_is_refused(platform: str, key: str, ok: bool) -> None:
    settings = parse_settings({"channels": {"peer-x": {"platform": platform, "base_url": "https://x", key: 1}}},
                              source="outreach.toml", environ={})
    if ok:
        assert check_channel_options(settings) is settings
        return
    with pytest.raises(ConfigError) as raised:
        check_channel_options(settings)
    message = str(raised.value)
    assert message.startswith(f"outreach.toml: [channels.peer-x]: unknown setting {key!r} (")
    assert "known: platform, base_url, NAME_env, " in message and "\n" not in message and len(message) < 400


def test_a_misspelt_key_gets_the_nearest_known_one_and_a_family_is_shown_once() -> None:
    settings = parse_settings({"channels": {"yt": {"platform": "youtube", "base_url": "https://y",
                                                   "privacy_stauts": "public"}}}, environ={})
    with pytest.raises(ConfigError, match=r"did you mean 'privacy_status'\? known: .*privacy_status, quota_\*, "):
        check_channel_options(settings)


def test_poll_interval_is_a_channel_option_the_connector_gets() -> None:
    """`poll_interval_s` sets the pause between status checks of one publish (the chaos test polls
    Instagram and TikTok fast with it); anything but 0..600 seconds is one line naming channel and key."""
    from outreach.publishing import ConnectorCache

    table = {"platform": "instagram", "base_url": "http://127.0.0.1:9", "ig_user_id": "1", "token_env": "T"}
    settings = parse_settings({"channels": {"ig": {**table, "poll_interval_s": 0.05}}}, environ={"T": "x"})
    assert ConnectorCache(settings)("ig").poll_interval_s == 0.05
    default = parse_settings({"channels": {"ig": table}}, environ={"T": "x"})
    connector = ConnectorCache(default)("ig")
    assert connector.poll_interval_s == type(connector).poll_interval_s != 0.05  # the connector's own
    for bad in ("fast", -1, 3600, True):
        with pytest.raises(ConfigError, match=r"\[channels.ig\] poll_interval_s = .*a number from 0 to 600"):
            parse_settings({"channels": {"ig": {**table, "poll_interval_s": bad}}}, environ={"T": "x"})


@pytest.mark.parametrize(("platform", "key", "value", "words"), [
    ("tiktok", "audited", "true", "true or false (without quotes)"),  # a string "true" once meant the inbox flow
    ("youtube", "audited_project", "yes", "true or false (without quotes)"),
    ("youtube", "youth_reach", "false", "true or false (without quotes)"),  # "false" once kept Analytics on
    ("youtube", "daily_units", "10000", "a whole number"),
    ("bluesky", "max_image_bytes", 1.5, "a whole number"),
    ("tiktok", "disable_duet", 1, "true or false (without quotes)"),  # TOML's 1 is no boolean
    ("facebook", "metrics", "post_media_view", "a list"),
])
def test_a_channel_setting_of_the_wrong_type_is_refused_naming_it(platform: str, key: str, value: object,
                                                                     words: str) -> None:
    """A value of the wrong TOML type never falls back silently (`audited = "true"` looked set and was not)."""
    settings = parse_settings({"channels": {f"peer-{platform}": {"platform": platform, "base_url": "https://x",
                                                                 key: value}}}, source="outreach.toml", environ={})
    with pytest.raises(ConfigError) as caught:
        check_channel_options(settings)
    message = str(caught.value)
    assert message.startswith(f"outreach.toml: [channels.peer-{platform}]: {key} must be {words}"), message
    assert repr(value) in message


def test_channel_settings_of_the_right_type_pass() -> None:
    settings = parse_settings({"channels": {
        "peer-tiktok": {"platform": "tiktok", "base_url": "https://x", "audited": True, "disable_comment": False},
        "peer-youtube": {"platform": "youtube", "base_url": "https://x", "daily_units": 20000, "youth_reach": False},
        "peer-mastodon": {"platform": "mastodon", "base_url": "https://x", "poll_interval_s": 30, "max_text": 500},
        "peer-facebook": {"platform": "facebook", "base_url": "https://x", "metrics": ["post_media_view"]}}},
        source="outreach.toml", environ={})
    assert check_channel_options(settings) is settings
