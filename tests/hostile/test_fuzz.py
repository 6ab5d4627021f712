"""Property-based fuzzing: malformed campaign files, configs and CSVs.

Every generated example must end in an exit code and lines a person can read (no traceback, no
"internal error"), within 5 s and 200 MB (measured per example), with the database unchanged.
Derandomized, so CI runs the same examples every time; `-s` prints what the examples cost.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outreach.config import dump_toml
from tests.hostile.harness import CAMPAIGN, CONFIG, MAX_BYTES, MAX_SECONDS, Run, run, template_db

EXAMPLES = 40
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
STATS: dict[str, list[float]] = {"examples": [], "seconds": [], "peak_mb": []}

# Fragments a volunteer (or an attacker) might paste in: YAML structure, aliases, templates, dates, numbers.
FRAGMENTS = [
    "&a [1,2]", "*a", "<<: *a", "!!python/object:os.system", "{{ range(10**9) }}", "{% for x in range(99999) %}",
    "{{ 'a' * 10**8 }}", "{{ meeting.start | date }}", "{{ 1/0 }}", "{% endfor %}", "9999-12-31 23:59",
    "0001-01-01 00:00", "days: -1000000", "100000000000000000000000000000", "- ", ": ", "\t", "'", '"', "[", "]",
    "{", "}", "#", "|", ">", "%", "@", "`", "\x00", "\ufeff", "🙂", "العربية", "\\", "../../../etc/passwd",
    "image: /etc/passwd", "null", "~", "true", ".nan", "-.inf", "0x7f", "1e999", "\r\n", "\n  - ", "? ", "---",
    "...",
]


@pytest.fixture(scope="module")
def template() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as root:
        yield template_db(Path(root) / "template")
    if STATS["examples"]:
        print(f"\nfuzz: {len(STATS['examples'])} examples, slowest {max(STATS['seconds']):.2f} s, "
              f"largest peak {max(STATS['peak_mb']):.1f} MB")


def check(result: Run, codes: set[int], where: str) -> None:
    shown = "\n".join(result.lines)
    STATS["examples"].append(1)
    STATS["seconds"].append(result.seconds)
    STATS["peak_mb"].append(result.peak_bytes / 1e6)
    assert result.code in codes, shown
    assert "Traceback" not in shown and "internal error" not in shown, shown
    if result.code != 0:
        assert result.lines, "an error without a message"
        assert all(line.startswith((where, "outreach: error:", "outreach ", "…")) for line in result.lines), shown
    assert not result.db_changed
    assert result.seconds < MAX_SECONDS, f"{result.seconds:.1f} s"
    assert result.peak_bytes < MAX_BYTES, f"{result.peak_bytes / 1e6:.0f} MB"


def _splice(text: str, edits: list[tuple[int, int, str]]) -> str:
    for position, cut, fragment in edits:
        at = position % (len(text) + 1)
        text = text[:at] + fragment + text[at + cut:]
    return text


edits = st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 8),
                           st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12))), min_size=1, max_size=6)


@FUZZ
@given(edits=edits)
def test_fuzzed_campaign_files(template: Path, edits: list[tuple[int, int, str]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        result = run(Path(folder), ["validate", "c.yaml"], {"c.yaml": _splice(CAMPAIGN, edits)}, template=template)
    check(result, {0, 1}, "c.yaml:")


scalars = st.one_of(st.text(max_size=20), st.integers(-10**30, 10**30), st.floats(allow_nan=False),
                    st.booleans(), st.sampled_from(["Mars/Olympus", "Europe/Amsterdam", "postgresql://u:p@h/d",
                                                    "sqlite:///../x.db", "mailtos://a:b@c", "../../etc"]))
keys = st.one_of(st.sampled_from(["timezone", "url", "url_env", "token", "api_key", "platform", "base_url",
                                  "token_env", "lease_s", "directory", "asset_dirs", "visibility", "urls",
                                  "threshold", "young", "capture"]), st.from_regex(r"[a-z_]{1,10}", fullmatch=True))
tables = st.sampled_from(["database", "worker", "media", "alerts", "privacy", "youth", "harvest", "archive",
                          "channels.peer-mastodon", "channels.peer-instagram", ""])


@FUZZ
@given(changes=st.lists(st.tuples(tables, keys, st.one_of(scalars, st.lists(scalars, max_size=3))),
                        min_size=1, max_size=5),
       raw=st.lists(st.tuples(st.integers(0, 2_000), st.integers(0, 4), st.sampled_from(FRAGMENTS)), max_size=2))
def test_fuzzed_configs(template: Path, changes: list[tuple[str, str, object]],
                        raw: list[tuple[int, int, str]]) -> None:
    import tomllib

    data = tomllib.loads(CONFIG)
    for table, key, value in changes:
        target = data
        for part in filter(None, table.split(".")):
            target = target.setdefault(part, {}) if isinstance(target.get(part, {}), dict) else {}
        target[key] = value
    text = _splice(dump_toml(data), raw)
    with tempfile.TemporaryDirectory() as folder:
        result = run(Path(folder), ["validate", "c.yaml"], {"c.yaml": CAMPAIGN}, template=template, config=text)
    check(result, {0, 1, 3, 4}, "c.yaml:")


cells = st.one_of(st.text(max_size=15), st.integers(-10**30, 10**30).map(str), st.sampled_from(
    ["=HYPERLINK(\"x\")", "1e999", "nan", "-1", "", "\"", "\x00", "١٢", "1_000", " 7 "]))
encodings = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "latin-1", "cp1254", "utf-32"])


@FUZZ
@given(header=st.lists(st.sampled_from(["campaign", "meeting", "age_under_18", "age_18_24", "evaluation", "notes",
                                        "gender_woman", "x", ""]), max_size=8),
       rows=st.lists(st.lists(cells, max_size=9), max_size=6), encoding=encodings, junk=st.binary(max_size=20))
def test_fuzzed_outcome_csvs(template: Path, header: list[str], rows: list[list[str]], encoding: str,
                             junk: bytes) -> None:
    text = "\n".join(",".join(r) for r in [header, *rows]) + "\n"
    data = text.encode(encoding, errors="replace") + junk
    with tempfile.TemporaryDirectory() as folder:
        result = run(Path(folder), ["meetings", "import", "m.csv"], {"m.csv": data}, template=template)
    check(result, {0, 1}, "m.csv")
