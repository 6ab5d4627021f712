"""Table-driven connector tests: one row per case, one runner, a real sandbox on loopback.

A connector test module opens with a table of `Case`s and runs them with
`@pytest.mark.parametrize("case", CASES, ids=case_id)` and `run_case(case, ctx)`. Each case
says what to do to the sandbox first (faults, control actions), what the connector does, and
what must come out (a value, or an error of a type, ambiguity and message). Every error is also
checked for leaked secrets.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from outreach.connectors.base import Connector
from outreach.connectors.errors import ConnectorError, TransientError
from outreach.sandbox.core import Sandbox

Act = Callable[[Connector, "Context"], Any]


@dataclass
class Context:
    """What a case can reach: the sandbox (in-process and over HTTP) and a connector factory."""

    sandbox: Sandbox
    url: str  # server root, e.g. http://127.0.0.1:PORT
    prefix: str  # the simulation's prefix, e.g. "mastodon"
    make_connector: Callable[..., Connector]  # keyword options -> a connector on this sandbox
    secrets: tuple[str, ...] = ()  # strings no error message may contain
    saved_handles: list[dict[str, Any]] = field(default_factory=list)
    scratch: dict[str, Any] = field(default_factory=dict)  # for acts that need to pass things on

    def control(self, action: str, payload: dict[str, Any] | None = None) -> Any:
        """POST /_sandbox/<prefix>/<action>: platform-specific setup, over real HTTP."""
        response = requests.post(f"{self.url}/_sandbox/{self.prefix}/{action}", json=payload or {},
                                 timeout=5)
        response.raise_for_status()
        return response.json()

    def state(self) -> dict[str, Any]:
        """The simulation's state as the sandbox reports it (GET /_sandbox/state)."""
        response = requests.get(f"{self.url}/_sandbox/state", timeout=5)
        response.raise_for_status()
        return response.json()[self.prefix]

    def save_handle(self, handle: dict[str, Any]) -> None:
        """Stands in for the dispatcher's commit-before-continuing callback."""
        self.saved_handles.append(dict(handle))

    def requests_to(self, method: str, path_part: str) -> int:
        """How many requests the simulation received with this method and path substring."""
        return sum(1 for prefix, m, p in self.sandbox.requests_seen
                   if prefix == self.prefix and m == method and path_part in p)


@dataclass(frozen=True)
class Case:
    """One row of a connector test table."""

    name: str
    act: Act
    faults: tuple[dict[str, Any], ...] = ()  # `Sandbox.add_fault` keyword sets; platform is filled in
    control: tuple[tuple[str, dict[str, Any]], ...] = ()  # (action, payload) sent before acting
    options: dict[str, Any] = field(default_factory=dict)  # passed to ctx.make_connector
    raises: type[ConnectorError] | None = None
    ambiguous: bool | None = None  # for TransientError: may the platform have acted?
    message: str | None = None  # substring of the error message
    check: Callable[[Outcome], None] | None = None  # further assertions on the outcome


@dataclass
class Outcome:
    result: Any
    error: ConnectorError | None
    ctx: Context


def case_id(case: Case) -> str:
    return case.name


class StallGate:
    """Replaces `Sandbox.sleep`: a stalled answer waits until the client has given up, not longer."""

    def __init__(self) -> None:
        self.released = threading.Event()

    def __call__(self, delay_s: float) -> None:
        self.released.wait(delay_s)

    def release(self) -> None:
        self.released.set()


def closed_port_url() -> str:
    """A loopback URL nobody listens on: connections are refused, nothing is sent."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def run_case(case: Case, ctx: Context) -> Outcome:
    """Set up the sandbox as the case says, run its act, and assert on what came out."""
    for action, payload in case.control:
        ctx.control(action, payload)
    for fault in case.faults:
        ctx.sandbox.add_fault(**{"platform": ctx.prefix, **fault})
    gate = StallGate()
    ctx.sandbox.sleep = gate
    connector = ctx.make_connector(**case.options)
    result, error = None, None
    try:
        result = case.act(connector, ctx)
    except ConnectorError as exc:
        error = exc
    finally:
        gate.release()
    outcome = Outcome(result, error, ctx)
    if case.raises is None:
        assert error is None, f"{case.name}: unexpected {type(error).__name__}: {error}"
    else:
        assert isinstance(error, case.raises), \
            f"{case.name}: expected {case.raises.__name__}, got {type(error).__name__}: {error}"
        text = str(error)
        assert error.channel in text, f"{case.name}: error does not name the channel: {text}"
        for secret in ctx.secrets:
            assert secret not in text, f"{case.name}: error message leaks a secret"
        if case.message is not None:
            assert case.message in text, f"{case.name}: {case.message!r} not in {text!r}"
        if case.ambiguous is not None:
            assert isinstance(error, TransientError)
            assert error.ambiguous is case.ambiguous, f"{case.name}: ambiguous={error.ambiguous}"
    if case.check is not None:
        case.check(outcome)
    return outcome
