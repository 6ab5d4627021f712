"""A real AT Protocol PDS (peers/bluesky) for the tests: started once per session on free ports.

`bluesky_pds` yields a `LocalPds` with a fresh account (handle ending in .test) and an app
password for it. It skips, saying why, where Node.js or `peers/bluesky/node_modules` is missing;
CI installs them with `cd peers/bluesky && npm ci` and sets CI=true, which turns
that skip into a failure.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from outreach.sandbox.http import free_port
from tests.system import unavailable

PEER_DIR = Path(__file__).resolve().parents[2] / "peers" / "bluesky"
START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class LocalPds:
    url: str  # e.g. http://127.0.0.1:PORT (XRPC under /xrpc)
    handle: str
    did: str
    app_password: str
    admin_password: str

    def xrpc(self, nsid: str) -> str:
        return f"{self.url}/xrpc/{nsid}"


def _why_unavailable() -> str | None:
    node = shutil.which("node")
    if node is None:
        return "Node.js is not installed: the real-PDS tests need node 20 (apt-get install nodejs)"
    if not (PEER_DIR / "node_modules" / "@atproto" / "pds").is_dir():
        return f"the Bluesky PDS is not installed: run `cd {PEER_DIR} && npm ci` (about 2-4 minutes)"
    return None


def _wait_for_ready(process: subprocess.Popen[str]) -> dict[str, str]:
    """Read the start script's stdout until its `PDS ready {...}` line (or its death)."""
    found: dict[str, str] = {}
    done = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("PDS ready "):
                found.update(json.loads(line.removeprefix("PDS ready ")))
                break
        done.set()

    threading.Thread(target=read, name="pds-stdout", daemon=True).start()
    if not done.wait(START_TIMEOUT_S) or not found:
        process.kill()
        process.wait(timeout=10)
        raise RuntimeError("the local PDS did not start (its stderr follows in the captured output)")
    return found


@pytest.fixture(scope="session")
def bluesky_pds() -> Iterator[LocalPds]:
    reason = _why_unavailable()
    if reason is not None:
        unavailable(reason)
    port, plc_port = free_port(), free_port()
    # stderr goes to a file, not a pipe: nothing has to drain it while the server runs.
    with tempfile.TemporaryFile(mode="w+") as errors:
        process = subprocess.Popen(["node", "start-pds.js", "--port", str(port), "--plc-port", str(plc_port)],
                                   cwd=PEER_DIR, stdout=subprocess.PIPE, stderr=errors, text=True)
        try:
            yield _start(process, f"http://127.0.0.1:{port}")
        finally:
            _stop(process)
            errors.seek(0)
            if process.returncode not in (0, -15):
                print(f"local PDS exited with {process.returncode}: {errors.read().strip()[-2000:]}")


def _start(process: subprocess.Popen[str], url: str) -> LocalPds:
    """Wait for readiness, then create an account and an app password for it."""
    ready = _wait_for_ready(process)
    requests.get(f"{url}/xrpc/_health", timeout=10).raise_for_status()
    handle = f"outreach-{secrets.token_hex(3)}.test"
    account = requests.post(f"{url}/xrpc/com.atproto.server.createAccount", timeout=30, json={
        "handle": handle, "email": f"{handle}@example.org", "password": secrets.token_urlsafe(16)})
    account.raise_for_status()
    body = account.json()
    app = requests.post(f"{url}/xrpc/com.atproto.server.createAppPassword", timeout=30,
                        json={"name": "outreach tests"}, headers={"Authorization": f"Bearer {body['accessJwt']}"})
    app.raise_for_status()
    return LocalPds(url=url, handle=handle, did=body["did"], app_password=app.json()["password"],
                    admin_password=ready["adminPassword"])


def _stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM: the start script closes the PDS and the PLC directory and removes its data."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
    if process.stdout is not None:
        process.stdout.close()
