"""The example outreach.toml of a fresh clone: the example campaign validates with it, and its channels are
the demo's (sandbox URLs and env-var names), so the two cannot drift apart."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

from outreach.demo import demo_channels

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "outreach.toml"
SANDBOX_URL = "http://127.0.0.1:8765"  # `outreach sandbox`'s default port


def test_a_fresh_clone_validates_the_example_campaign() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("OUTREACH_CONFIG", "OUTREACH_DATABASE_URL")}
    done = subprocess.run([sys.executable, "-m", "outreach", "validate", "campaigns/"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "voorjaar-2027.yaml: ok" in done.stdout


def test_the_example_config_names_the_demo_channels_and_no_secret() -> None:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    channels, secrets = demo_channels(SANDBOX_URL)
    assert data["channels"] == channels
    text = EXAMPLE.read_text(encoding="utf-8")
    assert not [value for value in secrets.values() if value in text]  # only the variables' names
