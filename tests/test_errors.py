"""Every error the CLI can meet is one line and an exit code; `-v` adds the traceback."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from outreach import cli
from outreach.config import ConfigError
from outreach.connectors.errors import AuthError
from outreach.errors import ExitCode, OutreachError, exit_code
from outreach.planning import CampaignError


def test_every_user_error_derives_from_the_root_and_has_a_code() -> None:
    from outreach.archive import BackupError
    from outreach.archive.report import PdfError
    from outreach.cards import CardError, TemplateError, TextEngineError
    from outreach.planning.dashboard_posts import DraftError
    from outreach.planning.review import ReviewError

    kinds = (cli.CommandError, ConfigError, AuthError, ReviewError, CardError, TemplateError, TextEngineError,
             CampaignError, DraftError, BackupError, PdfError)
    for kind in kinds:
        assert issubclass(kind, OutreachError), kind
        assert kind.exit_code not in (ExitCode.OK, ExitCode.INTERNAL), kind
    assert exit_code(RuntimeError("x")) is ExitCode.INTERNAL


def test_missing_config_file_is_one_line_with_the_config_code(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["--config", str(tmp_path / "nope.toml"), "status"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == ExitCode.CONFIG and err == [f"outreach: error: config file {tmp_path / 'nope.toml'} does not exist"]


def _explode(args: argparse.Namespace) -> int:
    raise RuntimeError("boom\nsecond line")


@pytest.mark.parametrize("verbose", [False, True])
def test_a_bug_is_one_line_and_exit_70_and_v_adds_the_traceback(verbose: bool, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "cmd_status", _explode)
    code = cli.main(["-v", "status"] if verbose else ["status"])
    err = capsys.readouterr().err
    assert code == ExitCode.INTERNAL == 70
    assert err.strip().splitlines()[-1].startswith("outreach: internal error") and "boom second line" in err
    assert ("Traceback" in err) is verbose


def test_an_error_line_never_shows_a_token(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "outreach.toml").write_text('[channels.m]\nplatform = "mastodon"\nbase_url = "https://m"\n'
                                            'token_env = "T15"\n')
    monkeypatch.setenv("T15", "tok-very-secret")
    monkeypatch.chdir(tmp_path)

    def leak(args: argparse.Namespace) -> int:
        raise RuntimeError("request to https://m/?access_token=tok-very-secret failed")

    monkeypatch.setattr(cli, "cmd_status", leak)
    for argv in (["status"], ["-v", "status"]):
        assert cli.main(argv) == ExitCode.INTERNAL
        err = capsys.readouterr().err
        assert "tok-very-secret" not in err and "access_token=***" in err
