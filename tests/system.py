"""What a test needs from the machine: skipped on a developer's machine without it, a failure in CI.

`.ci/run` sets CI=true and installs every system package the suite needs, so a skip there would
hide a missing install step.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def unavailable(what: str) -> NoReturn:
    """Skip (developer machine) or fail (CI) because `what` is not installed; `what` says how to get it."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is not installed; .ci/run installs it")
    pytest.skip(f"{what} is not installed")
