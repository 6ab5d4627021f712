"""The root of every error a user can see, and the one place error kinds map to CLI exit codes.

A module defines its own error class by deriving from one of the kinds below; the CLI prints any
`OutreachError` as one line and exits with its kind's code. Anything else is a bug: one line too
(`-v` adds the traceback), exit code `INTERNAL`.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What the `outreach` command returns. Documented in the README's CLI table."""

    OK = 0
    INPUT = 1  # a campaign file, CSV or media file needs fixing (also: `verify` found a problem)
    USAGE = 2  # wrong command-line arguments (argparse uses 2 too)
    CONFIG = 3  # outreach.toml or the environment needs fixing
    DATABASE = 4  # the database is missing, out of date or unreachable
    PLATFORM = 5  # a platform refused or could not be reached
    OUTPUT = 6  # an export, report or backup could not be written
    INTERNAL = 70  # a bug (EX_SOFTWARE): please report it with `-v` output
    INTERRUPTED = 130


class OutreachError(Exception):
    """Base of every error a person can act on; the message is one line and never holds a secret."""

    exit_code: ExitCode = ExitCode.INPUT

    def lines(self) -> list[str]:
        """What the CLI prints (one line unless the error lists several problems)."""
        return [" ".join(str(self).split())] if "\n" not in str(self) else str(self).splitlines()


class InputError(OutreachError):
    """A file a volunteer wrote (campaign, CSV, image) cannot be used as it is."""

    exit_code = ExitCode.INPUT


class UsageError(OutreachError):
    """The command was called with arguments that cannot work."""

    exit_code = ExitCode.USAGE


class ConfigError(OutreachError):
    """A configuration problem a person must fix; the message names the file and key."""

    exit_code = ExitCode.CONFIG


class DatabaseError(OutreachError):
    """The database is missing, out of date or unreachable; the message names it (without password)."""

    exit_code = ExitCode.DATABASE


class PlatformError(OutreachError):
    """A social platform refused a request or could not be reached."""

    exit_code = ExitCode.PLATFORM


class OutputError(OutreachError):
    """An export, report or backup could not be written."""

    exit_code = ExitCode.OUTPUT


def exit_code(exc: BaseException) -> ExitCode:
    """The exit code for an exception: its kind's code, OUTPUT for a file the system refused, or
    INTERNAL for a bug."""
    if isinstance(exc, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    if isinstance(exc, OutreachError):
        return exc.exit_code
    if type(exc).__module__.split(".")[0] == "sqlalchemy":  # unreachable, not a database, a URL it cannot parse
        return ExitCode.DATABASE
    # A file the system would not let us read or write (inputs are read where they are checked, so
    # what reaches here is an export, report, render or backup path): not a bug, the place is wrong.
    return ExitCode.OUTPUT if isinstance(exc, OSError) and exc.filename else ExitCode.INTERNAL
