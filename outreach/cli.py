"""The `outreach` command: thin subcommands that parse arguments and call one library function each."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NoReturn

from outreach import __version__
from outreach.config import ConfigError, Settings, load_settings
from outreach.errors import ExitCode, OutreachError, UsageError, exit_code

log = logging.getLogger("outreach")


class CommandError(UsageError):
    """A command called with arguments that cannot work; printed as one line without a traceback."""


class _ScrubSecrets(logging.Formatter):
    """Every line written, traceback included, without the configured secrets or any URL's query string
    (an upload URL's may be a capability: urllib3's debug lines and requests' errors show it)."""

    def __init__(self, fmt: str, secrets: list[str]) -> None:
        super().__init__(fmt)
        self.secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        from outreach.redact import strip_url_queries

        text = strip_url_queries(super().format(record))
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


def _setup_logging(settings: Settings, verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_ScrubSecrets("%(asctime)s %(levelname)s %(name)s: %(message)s", settings.secret_values()))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    # APScheduler warns when a tick overlaps a pass still running: expected, not a problem.
    logging.getLogger("apscheduler").setLevel(logging.DEBUG if verbose else logging.ERROR)


def _settings(args: argparse.Namespace) -> Settings:
    """outreach.toml, with every channel's keys checked against its platform's connector."""
    from outreach.connectors import check_channel_options

    return check_channel_options(load_settings(args.config))


def _database(settings: Settings, *, must_exist: bool = True):  # type: ignore[no-untyped-def]
    from outreach.db.migrate import open_ready

    return open_ready(settings.database_url, source=settings.source, must_exist=must_exist)


def _missing_database_file(settings: Settings) -> Path | None:
    from outreach.db.engine import missing_sqlite_file

    return missing_sqlite_file(settings.database_url)


def _url_password(url: str) -> str | None:
    from urllib.parse import urlsplit

    try:
        return urlsplit(url).password
    except ValueError:
        return None


def _redact_url(url: str) -> str:
    from outreach.db.engine import redact_url

    return redact_url(url)


def _print_lines(lines: Sequence[str]) -> None:
    for line in lines:
        print(line)


def _selector(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from outreach.planning.review import PostSelector

    return PostSelector(ids=tuple(args.ids), campaign=args.campaign, language=args.language,
                        channel=args.channel)


# -- commands ---------------------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    from outreach.db.migrate import upgrade

    settings = _settings(args)
    db = _database(settings, must_exist=False)
    before, after = upgrade(db)
    where = _redact_url(settings.database_url)
    print(f"database {where}: " + (f"already at revision {after}" if before == after
                                   else f"upgraded {before or 'empty'} → {after}"))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from outreach.planning import CampaignError, plan_campaign

    settings = _settings(args)
    failed = 0
    for path in _campaign_files(args.paths):
        try:
            plan = plan_campaign(path, settings)
        except CampaignError as exc:
            failed += 1
            _print_lines(exc.errors)
            continue
        print(f"{path}: ok · {len(plan.meetings)} meetings · {len(plan.posts)} posts")
        _print_lines(plan.warnings)  # e.g. captions a channel will drop: said, but not a failure
    return 1 if failed else 0


def cmd_plan(args: argparse.Namespace) -> int:
    from outreach.planning import format_plan, plan_campaign

    settings = _settings(args)
    for path in _campaign_files(args.paths):
        _print_lines(format_plan(plan_campaign(path, settings)))
    return 0


def cmd_schedule(args: argparse.Namespace) -> int:
    from outreach.planning import plan_campaign, schedule_campaign, shift_to_now

    settings = _settings(args)
    db = _database(settings)
    now = datetime.now(UTC)
    for path in _campaign_files(args.paths):
        plan = plan_campaign(path, settings)
        if args.shift_to_now:
            plan = plan_campaign(path, settings, shift=shift_to_now(plan, now))
        report = schedule_campaign(db, plan, now=now)
        _print_lines(report.lines())
        print(f"{path}: {report.summary()}")
    return 0


def _review(action: Callable[..., list], args: argparse.Namespace, **kwargs: object) -> int:
    settings = _settings(args)
    db = _database(settings)
    results = action(db, _selector(args), **kwargs)
    if not results:
        print("no posts matched")
        return 1
    _print_lines([r.line() for r in results])
    return 0


def cmd_approve(args: argparse.Namespace) -> int:
    from outreach.planning.review import approve

    return _review(approve, args, reviewer=args.reviewer, reason=args.reason or "")


def cmd_reject(args: argparse.Namespace) -> int:
    from outreach.planning.review import reject

    return _review(reject, args, reviewer=args.reviewer, reason=args.reason)


def cmd_retry(args: argparse.Namespace) -> int:
    from outreach.planning.review import retry

    return _review(retry, args)


def cmd_cancel(args: argparse.Namespace) -> int:
    from outreach.planning.review import cancel

    return _review(cancel, args)


def cmd_confirm(args: argparse.Namespace) -> int:
    from outreach.planning.review import confirm_manual

    settings = _settings(args)
    db = _database(settings)
    result = confirm_manual(db, args.id, permalink=args.permalink, confirmed_by=args.by, reach=args.reach)
    print(result.line())
    return 0


def cmd_reschedule(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo

    from outreach.planning.review import reschedule

    settings = _settings(args)
    db = _database(settings)
    try:
        local = datetime.fromisoformat(args.at)
    except ValueError:
        raise CommandError(f"--at {args.at!r}: write a local date and time like '2027-03-05 18:00'") from None
    due = local if local.tzinfo else local.replace(tzinfo=ZoneInfo(settings.timezone))
    try:
        due_utc = due.astimezone(UTC)
    except OverflowError:
        raise CommandError(f"--at {args.at!r} is outside the calendar") from None
    print(reschedule(db, args.id, due_utc).line())
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from outreach.scheduler import run_worker

    settings = _settings(args)
    db = _database(settings)
    return run_worker(db, settings, once=args.once, worker_id=args.worker_id, out=print)


def cmd_harvest(args: argparse.Namespace) -> int:
    from outreach.harvest import audience_due, harvest_due
    from outreach.publishing.dispatcher import ConnectorCache, recorder_for

    settings = _settings(args)
    db = _database(settings)
    recorder = recorder_for(settings)
    connectors = ConnectorCache(settings, recorder=recorder)
    now = datetime.now(UTC)
    try:
        report = harvest_due(db, settings, connectors, now=now)
        _print_lines(report.lines())
        if not args.no_audience:
            _print_lines(audience_due(db, settings, connectors, now=now).lines())
    finally:
        if recorder is not None:
            recorder.close()  # write every captured exchange before exiting
    return 0


def cmd_meetings_import(args: argparse.Namespace) -> int:
    from outreach.harvest import import_meeting_outcomes

    settings = _settings(args)
    db = _database(settings)
    report = import_meeting_outcomes(db, Path(args.csv))
    _print_lines(report.lines())
    return 0 if report.ok else 1


def _period(args: argparse.Namespace, settings: Settings) -> tuple[datetime, datetime]:
    from outreach.archive import period_from_dates

    try:
        return period_from_dates(args.date_from, args.date_to, timezone=settings.timezone)
    except ValueError as exc:
        raise CommandError(f"--from/--to: {exc}") from None


def _progress(stage: str, done: int, total: int | None) -> None:
    print(f"\r{stage}: {done:,}" + (f"/{total:,}" if total else "") + " " * 8, end="", file=sys.stderr, flush=True)


def cmd_archive_export(args: argparse.Namespace) -> int:
    from outreach.archive import export_archive

    settings = _settings(args)
    db = _database(settings)
    start, end = _period(args, settings)
    try:
        report = export_archive(db, settings, Path(args.out), start=start, end=end, organisation=args.organisation,
                                language=args.language, progress=_progress)
    except (ValueError, FileExistsError) as exc:
        raise CommandError(str(exc)) from None
    print(file=sys.stderr)
    _print_lines(report.lines())
    return 0


def cmd_archive_verify(args: argparse.Namespace) -> int:
    from outreach.archive import verify_archive

    report = verify_archive(Path(args.bag))
    _print_lines(report.lines())
    return 0 if report.ok else 1


def cmd_report(args: argparse.Namespace) -> int:
    from outreach.archive import write_report

    settings = _settings(args)
    db = _database(settings)
    start, end = _period(args, settings)
    result = write_report(db, settings, Path(args.out), start=start, end=end, organisation=args.organisation,
                          language=args.language)
    print(result.html)
    print(result.pdf or result.message)
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from outreach.archive import backup_database

    settings = _settings(args)
    print(backup_database(settings, Path(args.out)).line())
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from outreach.publishing.status import status_report

    settings = _settings(args)
    db = _database(settings)
    report = status_report(db)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        _print_lines(report.lines())
    return 0


def cmd_channels_check(args: argparse.Namespace) -> int:
    from outreach.db.migrate import is_current
    from outreach.publishing.channels import check_channels
    from outreach.publishing.dispatcher import ConnectorCache

    settings = _settings(args)
    if not settings.channels:
        raise CommandError(f"no channels configured in {settings.source}; add [channels.NAME] tables")
    db = None if _missing_database_file(settings) else _database(settings, must_exist=False)
    results = check_channels(db if db is not None and is_current(db) else None, settings, ConnectorCache(settings),
                             names=args.names or None)
    _print_lines([r.line() for r in results])
    return 0 if all(r.ok for r in results) else 1


def cmd_render(args: argparse.Namespace) -> int:
    from outreach.cards import check_text_engine
    from outreach.planning import plan_campaign
    from outreach.planning.cards import render_plan_cards

    check_text_engine()
    settings = _settings(args)
    out = Path(args.out)
    written = 0
    for path in _campaign_files([args.campaign]):
        plan = plan_campaign(path, settings)
        keys = {args.post} if args.post else None
        files = render_plan_cards(plan, out, source_keys=keys)
        if keys and not files:
            known = sorted({p.source_key for p in plan.posts if p.media})
            raise CommandError(f"{path}: no card for post {args.post!r}; posts with cards: {', '.join(known[:8])}…")
        written += len(files)
    print(f"{written} cards written to {out}/ (PNG + .alt.txt with the alt text)")
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    from outreach.demo import run_sandbox

    return run_sandbox(host=args.host, port=args.port, media_dir=Path(args.media_dir) if args.media_dir else None)


def cmd_demo(args: argparse.Namespace) -> int:
    from outreach.demo import run_demo

    return run_demo(state_dir=Path(args.state_dir), port=args.port, duration_s=args.duration,
                    fresh=not args.keep, campaigns_dir=Path(args.campaigns), dashboard=not args.no_dashboard,
                    history_years=_years(args.history) if args.history else None, history_scale=args.scale,
                    seed=args.seed)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2027-03-01") from None


def _number(low: float, high: float, *, kind: type = int) -> Callable[[str], Any]:
    """An argparse type for a number within [low, high]: out of range is one line, not an overflow later."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole ' if kind is int else ''}number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is outside {low:g}–{high:g}")
        return value

    return parse


_post_id = _number(1, 2**63 - 1)


def _years(text: str) -> int:
    value = text.strip().lower().removesuffix("y")
    if not value.isdigit() or not 1 <= int(value) <= 10:
        raise CommandError(f"--history {text!r}: write a number of years such as 5y")
    return int(value)


def _campaign_files(paths: Sequence[str]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml")))
        elif path.exists():
            files.append(path)
        else:
            raise CommandError(f"{path}: no such file or directory")
    if not files:
        raise CommandError(f"no campaign files (*.yaml) in {', '.join(paths)}")
    return files


# -- parser -----------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse, but a wrong argument is one line (the usage block stays behind --help)."""

    def error(self, message: str) -> NoReturn:
        self.exit(ExitCode.USAGE, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="outreach", description=__doc__.split(":")[0] + ": plan, review, "
                                     "publish exactly once, and keep the evidence.")
    parser.add_argument("--version", action="version", version=f"outreach {__version__}")
    parser.add_argument("--config", help="path to outreach.toml (default: $OUTREACH_CONFIG or ./outreach.toml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, func: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:  # noqa: A002
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(func=func)
        return p

    add("init", cmd_init, "create or upgrade the database schema")
    p = add("validate", cmd_validate, "check campaign files; errors name file, line and field")
    p.add_argument("paths", nargs="+", metavar="PATH", help="campaign files or folders")
    p = add("plan", cmd_plan, "show what a campaign would schedule, in local time")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p = add("schedule", cmd_schedule, "load campaign files into the database (idempotent; says what changed)")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--shift-to-now", action="store_true",
                   help="move the whole timeline so the first post is due in a few seconds (demos, rehearsals)")

    def selection(p: argparse.ArgumentParser) -> None:
        p.add_argument("ids", nargs="*", type=_post_id, metavar="POST_ID")
        p.add_argument("--campaign", help="every matching post of this campaign (slug)")
        p.add_argument("--language", help="only this language variant (e.g. nl, ar)")
        p.add_argument("--channel", help="only this channel")

    p = add("approve", cmd_approve, "approve language variants for publishing")
    selection(p)
    p.add_argument("--reviewer", required=True, help="who approves (recorded in the audit trail)")
    p.add_argument("--reason", help="optional note")
    p = add("reject", cmd_reject, "reject language variants, with a reason for the volunteer")
    selection(p)
    p.add_argument("--reviewer", required=True)
    p.add_argument("--reason", required=True)
    p = add("retry", cmd_retry, "send failed posts back to the queue (after fixing the cause)")
    selection(p)
    p = add("cancel", cmd_cancel, "cancel posts that have not been published")
    selection(p)
    p = add("reschedule", cmd_reschedule, "move an unpublished post to a new time (local time)")
    p.add_argument("id", type=_post_id, metavar="POST_ID")
    p.add_argument("--at", required=True, help="new local date and time, e.g. '2027-03-05 18:00'")
    p = add("confirm", cmd_confirm, "confirm a manual post was posted by hand (or a TikTok draft finished in the app)")
    p.add_argument("id", type=_post_id, metavar="POST_ID")
    p.add_argument("--permalink", required=True, help="link to the post (or a screenshot path)")
    p.add_argument("--by", required=True, help="who posted it")
    p.add_argument("--reach", type=_number(0, 10**10), help="reach figure read off the app, if known (marked as entered by hand)")
    p = add("run", cmd_run, "run the worker: publish posts as they fall due (Ctrl-C or SIGTERM stops cleanly)")
    p.add_argument("--once", action="store_true", help="publish everything due now, then exit")
    p.add_argument("--worker-id", help="name of this worker in logs and the audit trail")
    p = add("harvest", cmd_harvest, "fetch due metrics snapshots (and daily audience breakdowns) once")
    p.add_argument("--once", action="store_true", help="one pass, then exit (the worker harvests continuously)")
    p.add_argument("--no-audience", action="store_true", help="skip the audience breakdowns")
    meetings = add("meetings", lambda a: (meetings.print_help(), 2)[1], "meeting commands")
    msub = meetings.add_subparsers(dest="meetings_command", metavar="SUBCOMMAND")
    p = msub.add_parser("import", help="import meeting outcomes (attendance, evaluation) from CSV",
                        description="import meeting outcomes (attendance by age and gender, evaluation, "
                        "notes) from a CSV file; nothing is imported while any row has an error")
    p.add_argument("csv", metavar="CSV")
    p.set_defaults(func=cmd_meetings_import)
    archive = add("archive", lambda a: (archive.print_help(), 2)[1], "proof-of-impact archive commands")
    asub = archive.add_subparsers(dest="archive_command", metavar="SUBCOMMAND")

    def period(p: argparse.ArgumentParser) -> None:
        p.add_argument("--from", dest="date_from", required=True, metavar="DATE", type=_date,
                       help="first day (YYYY-MM-DD, local time)")
        p.add_argument("--to", dest="date_to", required=True, metavar="DATE", type=_date, help="last day, inclusive")
        p.add_argument("--organisation", help="only this organisation's meetings and posts (code, e.g. IOT)")
        p.add_argument("--language", default="nl", choices=["nl", "en"], help="language of the report (default nl)")

    p = asub.add_parser("export", help="write a BagIt archive of a period: posts, media, metrics, WARC, report",
                        description="write a verifiable BagIt archive (SHA-256 and SHA-512 manifests) of a period: "
                        "posts, media as published, metrics and audience snapshots, meetings and outcomes, "
                        "publish attempts, WARC captures and the report")
    period(p)
    p.add_argument("out", metavar="OUT", help="a new (or empty) folder")
    p.set_defaults(func=cmd_archive_export)
    p = asub.add_parser("verify", help="check an archive's completeness and every checksum",
                        description="check an archive's completeness and every checksum; names each missing or "
                        "altered file; exits 1 on any problem")
    p.add_argument("bag", metavar="BAG")
    p.set_defaults(func=cmd_archive_verify)
    p = add("report", cmd_report, "write the impact report (HTML and PDF) for a period")
    period(p)
    p.add_argument("--out", default="report", help="output folder (default: report)")
    p = add("backup", cmd_backup, "consistent copy of the database while the worker runs")
    p.add_argument("out", metavar="OUT", help="backup file to write")
    p = add("status", cmd_status, "counts per status, posts needing attention, channel problems")
    p.add_argument("--json", action="store_true", help="machine-readable output for monitoring")
    channels = add("channels", lambda a: (channels.print_help(), 2)[1], "channel commands")
    csub = channels.add_subparsers(dest="channels_command", metavar="SUBCOMMAND")
    p = csub.add_parser("check", help="verify each channel's credentials against its platform",
                        description="verify each channel's credentials against its platform")
    p.add_argument("names", nargs="*", metavar="CHANNEL")
    p.set_defaults(func=cmd_channels_check)
    p = add("render", cmd_render, "render a campaign's image cards to a folder for review (PNG + alt text)")
    p.add_argument("campaign", metavar="CAMPAIGN", help="campaign file or folder")
    p.add_argument("--post", help="only this post (its key, e.g. announce/iot-rotterdam-2027-03)")
    p.add_argument("--out", default="out/cards", help="output folder (default: out/cards)")
    p = add("sandbox", cmd_sandbox, "serve the simulated platform APIs on loopback")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=_number(0, 65535), default=8765)
    p.add_argument("--media-dir", help="directory served under /media/ (public URLs for Meta and TikTok)")
    p = add("demo", cmd_demo, "sandbox + worker + dashboard on an embedded SQLite database, no accounts needed")
    p.add_argument("--port", type=_number(0, 65535), default=0, help="sandbox port (default: any free port)")
    p.add_argument("--state-dir", default=".outreach/demo", help="where the demo keeps its database and media")
    p.add_argument("--campaigns", default="campaigns", help="campaign folder to load")
    p.add_argument("--duration", type=_number(0.1, 10**7, kind=float), help="stop after this many seconds (default: until Ctrl-C)")
    p.add_argument("--keep", action="store_true", help="keep the previous demo database instead of starting fresh")
    p.add_argument("--no-dashboard", action="store_true", help="do not start the Streamlit dashboard")
    p.add_argument("--history", metavar="YEARS", help="first fill the database with a synthetic programme "
                   "ending today, e.g. 5y: 700 meetings, ~25,000 posts, millions of snapshots")
    p.add_argument("--scale", type=_number(0.001, 10, kind=float), default=1.0, help="size of the synthetic history (default 1.0)")
    p.add_argument("--seed", type=int, default=2026, help="seed of the synthetic history (deterministic)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    settings = Settings()
    try:
        with contextlib.suppress(ConfigError):  # the command itself reports a broken config
            settings = _settings(args)
        _setup_logging(settings, args.verbose)
        return args.func(args)
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except BrokenPipeError:  # `outreach plan … | head`: the reader went away; not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # every error is one line and an exit code; `-v` adds the traceback
        secrets = [*settings.secret_values(), _url_password(settings.database_url)]
        return _report_error(exc, verbose=args.verbose, secrets=[s for s in secrets if s])


def _report_error(exc: Exception, *, verbose: bool, secrets: Sequence[str] = ()) -> int:
    from outreach.planning import CampaignError

    def say(line: str, *, out: object = sys.stderr) -> None:
        for secret in secrets:  # an error message never shows a token, whatever raised it
            line = line.replace(secret, "***") if secret else line
        print(line, file=out)  # type: ignore[call-overload]

    if verbose:
        import traceback

        say("".join(traceback.format_exception(exc)).rstrip())
    if isinstance(exc, CampaignError):  # problems in a file: `file:line: field: message` lines on stdout
        for line in exc.errors:
            say(line, out=sys.stdout)
    elif isinstance(exc, OutreachError):
        for line in exc.lines():
            say(f"outreach: error: {line}")
    elif exit_code(exc) is ExitCode.DATABASE:  # SQLAlchemy's own errors: unreachable, not a database, bad URL
        reason = " ".join(str(exc).split("(Background on this error")[0].split())[:300]
        say(f"outreach: error: the database cannot be used: {reason}")
    elif exit_code(exc) is ExitCode.OUTPUT:
        assert isinstance(exc, OSError)
        say(f"outreach: error: {exc.filename}: {exc.strerror or exc}")
    else:
        what = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
        say(f"outreach: internal error (a bug, please report it with the output of `outreach -v …`): {what}")
    return int(exit_code(exc))
