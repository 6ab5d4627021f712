"""The table of hostile and broken inputs: (name, command, files, exit code, expected message).

`{c}` in a command is the campaign file `c.yaml`. Messages are matched as substrings of the
output's one line (or of every line, for campaign files that list several problems).
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass, field

from tests.hostile.harness import CAMPAIGN, CONFIG

TEXT = '      nl: "Bijeenkomst in {{ meeting.city }} op {{ meeting.start | date }}."'


@dataclass(frozen=True)
class Case:
    name: str
    argv: tuple[str, ...]
    files: dict[str, str | bytes | int] = field(default_factory=dict)
    code: int = 1
    message: str = ""
    config: str | bytes | None = None


def campaign(old: str, new: str) -> dict[str, str | bytes]:
    assert old in CAMPAIGN, old
    return {"c.yaml": CAMPAIGN.replace(old, new, 1)}


def text(template: str) -> dict[str, str | bytes]:
    """The campaign with the Dutch text replaced by `template` (a YAML double-quoted string)."""
    return campaign(TEXT, f"      nl: {template}")


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims `width`×`height` pixels in a few bytes: what a decompression bomb looks like."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def small_jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), "purple").save(out, "JPEG")
    return out.getvalue()


def image_case(name: str, image: str, files: dict[str, str | bytes | int], message: str) -> Case:
    body = CAMPAIGN.replace('    at: {days: -7, time: "18:00"}\n',
                            f'    at: {{days: -7, time: "18:00"}}\n    image: "{image}"\n    alt_text: {{nl: Poster}}\n')
    return Case(name, VALIDATE, {"c.yaml": body, **files}, message="c.yaml:16: posts[0].image: " + message)


def many_meetings(count: int) -> str:
    """A campaign with `count` meetings, all announced on every configured channel."""
    meetings = "".join(f"  - {{id: m{n}, organisation: IOT, community: x, city: Rotterdam, venue: y, "
                       f"start: 2027-03-12 19:00, languages: [nl, tr]}}\n" for n in range(count))
    head, rest = CAMPAIGN.split("meetings:\n", 1)
    rules = rest.split("posts:\n", 1)[1].replace("      nl:", "      tr: x\n      nl:")
    return head.replace("channels: [peer-mastodon]", "channels: [peer-mastodon, peer-instagram]") + \
        "meetings:\n" + meetings + "posts:\n" + rules


def yaml_file(body: str) -> dict[str, str | bytes]:
    return {"c.yaml": body}


VALIDATE = ("validate", "c.yaml")
IMPORT = ("meetings", "import", "m.csv")
CSV_HEADER = "campaign,meeting,age_under_18,age_18_24,age_25_34,age_35_plus,age_unknown,evaluation,notes\n"


def csv_case(name: str, data: bytes | str, message: str) -> Case:
    body = data if isinstance(data, bytes) else (CSV_HEADER + data).encode("utf-8")
    return Case(name, IMPORT, {"m.csv": body}, message=message)
STATUS = ("status",)


def config(old: str = "", new: str = "", *, append: str = "") -> str:
    assert old in CONFIG, old
    return (CONFIG.replace(old, new, 1) if old else CONFIG) + append


def config_case(name: str, text: str, message: str, argv: tuple[str, ...] = VALIDATE) -> Case:
    return Case(name, argv, {"c.yaml": CAMPAIGN}, code=3, message=message, config=text)

CASES: list[Case] = [
    # -- templates -----------------------------------------------------------------------------
    Case("template: huge range", VALIDATE, text('"{% for x in range(10**9) %}{{ x }}{% endfor %}"'),
         message="c.yaml:17: posts[0].text.nl: the template counts to more than"),
    Case("template: nested ranges", VALIDATE,
         text('"{% for x in range(99999) %}{% for y in range(99999) %}{% endfor %}{% endfor %}"'),
         message="posts[0].text.nl: the template counts to more than 10,000"),
    Case("template: nested loops within range", VALIDATE,
         text('"{% for x in range(9999) %}{% for y in range(9999) %}{% endfor %}{% endfor %}"'),
         message="posts[0].text.nl: the template repeats more than 100,000 times"),
    Case("template: string repetition", VALIDATE, text('"{{ \'a\' * 100000000 }}"'),
         message="posts[0].text.nl: the template produces more than"),
    Case("template: long output", VALIDATE, text('"{% for x in range(9000) %}{{ meeting.city }}{% endfor %}"'),
         message="posts[0].text.nl: the template produces more than"),
    Case("template: power", VALIDATE, text('"{{ 10 ** 100000000 }}"'),
         message="posts[0].text.nl: the template computes a number too large"),
    Case("template: date of a number", VALIDATE, text('"{{ 12345 | date }}"'),
         message="posts[0].text.nl: template: ValueError: `date` needs a date or time"),
    Case("template: loop over a long string", VALIDATE,
         text('"{% for a in \'x\' * 5000 %}{% for b in \'x\' * 5000 %}{% endfor %}{% endfor %}"'),
         message="posts[0].text.nl: the template repeats more than"),
    Case("template: center filter width", VALIDATE, text('"{{ meeting.city | center(1000000000) }}"'),
         message="posts[0].text.nl: the template produces more than"),
    Case("template: format width", VALIDATE, text('"{{ \'%999999999d\' % 1 }}"'),
         message="posts[0].text.nl: the template produces more than"),
    Case("template: python internals", VALIDATE, text('"{{ meeting.__class__.__mro__ }}"'),
         message="posts[0].text.nl: template:"),
    Case("template: syntax error", VALIDATE, text('"{% for x in %}"'),
         message="posts[0].text.nl: template syntax error"),
    Case("template: unknown variable", VALIDATE, text('"{{ meting.city }}"'),
         message="posts[0].text.nl: template: unknown variable 'meting'"),
    Case("template: division by zero", VALIDATE, text('"{{ 1 / 0 }}"'),
         message="posts[0].text.nl: template: ZeroDivisionError"),
    Case("template: recursion via macro", VALIDATE,
         text('"{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}"'),
         message="posts[0].text.nl: the template"),
    # -- YAML ----------------------------------------------------------------------------------
    Case("yaml: billion laughs", VALIDATE, yaml_file(
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        + "".join(f"{n}: &{n} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
                  for p, n in zip("abcdefgh", "bcdefghi", strict=True))),
         message="(yaml): the file expands to more than"),
    Case("yaml: oversized file", VALIDATE, yaml_file("campaign:\n  name: " + "x" * 500_000 + "\n"),
         message="c.yaml:1: (file): the file is larger than"),
    Case("yaml: deep nesting", VALIDATE, yaml_file("a: " + "[" * 5000 + "]" * 5000 + "\n"),
         message="c.yaml:1: (yaml): the file nests deeper than"),
    Case("yaml: syntax error", VALIDATE, yaml_file("campaign: [\n"), message="YAML syntax error"),
    Case("yaml: not UTF-8", VALIDATE, {"c.yaml": "campaign: caf\xe9\n".encode("latin-1")},
         message="c.yaml:1: (file): cannot read"),
    Case("yaml: a list at the top", VALIDATE, yaml_file("- a\n- b\n"), message="c.yaml:1:"),
    Case("yaml: empty file", VALIDATE, yaml_file(""), message="c.yaml:1:"),
    Case("yaml: python tag", VALIDATE, yaml_file("campaign: !!python/object/apply:os.system ['echo hi']\n"),
         message="c.yaml:1: (yaml): YAML tag"),
    Case("yaml: binary junk", VALIDATE, {"c.yaml": bytes(range(256))}, message="c.yaml:1: (file): cannot read"),
    Case("yaml: NUL bytes", VALIDATE, yaml_file("campaign:\x00\n"), message="c.yaml:1:"),
    Case("yaml: duplicate key", VALIDATE, campaign("  name: Test campaign", "  name: Test campaign\n  name: x"),
         message="duplicate key 'name'"),
    # -- dates ---------------------------------------------------------------------------------
    Case("date: relative days far in the past", VALIDATE, campaign("days: -7", "days: -1000000"),
         message="c.yaml:15: posts[0].at: the date falls outside the calendar"),
    Case("date: relative days far in the future", VALIDATE, campaign("days: -7", "days: 1000000000"),
         message="posts[0].at: the date falls outside the calendar"),
    Case("date: huge integer", VALIDATE, campaign("days: -7", "days: 100000000000000000000000000000"),
         message="posts[0].at"),
    Case("date: year 9999 plus a day", VALIDATE,
         campaign("start: 2027-03-12 19:00", "start: 9999-12-31 23:00").copy()
         | {"c.yaml": CAMPAIGN.replace("start: 2027-03-12 19:00", "start: 9999-12-31 23:00")
            .replace("days: -7", "days: 1")},
         message="posts[0].at: the date falls outside the calendar"),
    Case("date: year 1 minus a day", VALIDATE,
         {"c.yaml": CAMPAIGN.replace("start: 2027-03-12 19:00", "start: 0001-01-01 00:30")},
         message="outside the calendar"),
    Case("date: huge hours", VALIDATE, campaign('days: -7, time: "18:00"', "hours: 99999999999"),
         message="posts[0].at"),
    Case("date: 31 February", VALIDATE, campaign("start: 2027-03-12 19:00", "start: 2027-02-31 19:00"),
         message="meetings[0].start"),
    Case("date: hour 25", VALIDATE, campaign("start: 2027-03-12 19:00", "start: 2027-03-12 25:00"),
         message="meetings[0].start"),
    # -- configuration (exit 3) -------------------------------------------------------------------
    config_case("config: password in database url",
                config('url = "sqlite:///outreach.db"', 'url = "postgresql+psycopg://outreach:hunter2@db/outreach"'),
                "[database] url: the URL holds a password or token", STATUS),
    config_case("config: alerts url with credentials", config(append='\n[alerts]\nurls = ["mailtos://anna:SECRET@mail.example"]\n'),
                "[alerts] urls[0]: the URL holds a password or token"),
    config_case("config: token in a base_url query", config('base_url = "http://127.0.0.1:1/mastodon"',
                                                            'base_url = "http://127.0.0.1:1/mastodon?access_token=abc"'),
                "[channels.peer-mastodon] base_url: the URL holds a password or token"),
    config_case("config: api key written in a channel", config('token_env = "PEER_MASTODON_TOKEN"',
                                                               'token_env = "PEER_MASTODON_TOKEN"\napi_key = "abc"'),
                "[channels.peer-mastodon] api_key: secrets are never written in the config; use api_key_env"),
    config_case("config: token written in a channel", config('token_env = "PEER_MASTODON_TOKEN"', 'token = "abc"'),
                "[channels.peer-mastodon] token: secrets are never written"),
    config_case("config: misspelt channel option", config('token_env = "PEER_MASTODON_TOKEN"',
                                                          'token_env = "PEER_MASTODON_TOKEN"\nvisibilty = "public"'),
                "[channels.peer-mastodon]: unknown setting 'visibilty'"),
    config_case("config: misspelt YouTube option (YouTube's keys are its connector's)",
                config(append='\n[channels.peer-youtube]\nplatform = "youtube"\nbase_url = "http://127.0.0.1:1/youtube"\n'
                              'privacy_stauts = "public"\n'),
                "[channels.peer-youtube]: unknown setting 'privacy_stauts'"),
    config_case("config: timezone on Mars", 'timezone = "Mars/Olympus"\n' + CONFIG,
                "outreach.toml: timezone: unknown time zone 'Mars/Olympus'"),
    config_case("config: timezone path traversal", 'timezone = "../../etc/passwd"\n' + CONFIG,
                "timezone: unknown time zone"),
    config_case("config: unknown top-level key", "timezon = 'Europe/Amsterdam'\n" + CONFIG,
                "unknown setting 'timezon' at the top level"),
    config_case("config: unknown key in database", config('url = "sqlite:///outreach.db"',
                                                          'url = "sqlite:///outreach.db"\npassword = "x"'),
                "[database]: unknown setting 'password'"),
    config_case("config: unknown key in worker", config(append="\n[worker]\nlease = 30\n"),
                "[worker]: unknown setting 'lease'"),
    config_case("config: negative lease", config(append="\n[worker]\nlease_s = -1\n"),
                "[worker] lease_s: expected a positive number"),
    config_case("config: unknown key in alerts", config(append="\n[alerts]\nurl = 'x'\n"),
                "[alerts]: unknown setting 'url'"),
    config_case("config: unknown key in privacy", config(append="\n[privacy]\nthreshhold = 5\n"),
                "[privacy]: unknown setting 'threshhold'"),
    config_case("config: database is not a table", 'database = "sqlite:///x.db"\n',
                "[database] must be a table"),
    config_case("config: TOML syntax error", CONFIG + "\n[channels\n", "outreach.toml: "),
    config_case("config: unknown platform", config('platform = "mastodon"', 'platform = "myspace"'),
                "platform = 'myspace' is not one of"),
    config_case("config: url_env not set", config('url = "sqlite:///outreach.db"', 'url_env = "NO_SUCH_VAR_15"'),
                "[database] url_env: environment variable NO_SUCH_VAR_15 is not set", STATUS),
    config_case("config: not UTF-8", 'timezone = "caf\xe9"\n'.encode("latin-1"),  # type: ignore[arg-type]
                "outreach.toml: cannot read: save the file as UTF-8"),
    Case("database: missing file", STATUS, code=4, config=config("sqlite:///outreach.db", "sqlite:///elsewhere.db"),
         message="database "),
    # -- meeting outcomes CSV (exit 1, nothing imported) --------------------------------------------
    csv_case("csv: Latin-1", (CSV_HEADER + "test,x,1,,,,,,café\n").encode("latin-1"), "save it as UTF-8"),
    csv_case("csv: UTF-16 without BOM", (CSV_HEADER + "test,x,1,,,,,,\n").encode("utf-16-le"), "UTF-16 without a BOM"),
    csv_case("csv: count of 10^29", "test,x," + "1" + "0" * 29 + ",,,,,,\n", "is more than 100,000 people"),
    csv_case("csv: count of 5000 digits", "test,x," + "9" * 5000 + ",,,,,,\n", "is not a whole number"),
    csv_case("csv: negative count", "test,x,-4,,,,,,\n", "-4 is negative"),
    csv_case("csv: count with words", "test,x,twelve,,,,,,\n", "'twelve' is not a whole number"),
    csv_case("csv: evaluation infinity", "test,x,,,,,,1e999,\n", "evaluation: inf is outside 1-10"),
    csv_case("csv: field over the csv limit", 'test,x,,,,,,,"' + "x" * 200_000 + '"\n', "cannot read as CSV"),
    csv_case("csv: notes too long", "test,x,,,,,,," + "x" * 5000 + "\n", "notes: longer than 4,000 characters"),
    csv_case("csv: no meeting column", b"campaign,notes\ntest,x\n", "no 'meeting' column"),
    csv_case("csv: unknown column", b"meeting,attendees\nx,4\n", "unknown column 'attendees'"),
    csv_case("csv: unknown meeting", "test,nope,1,,,,,,\n", "no meeting 'nope' in campaign 'test'"),
    csv_case("csv: binary junk", bytes(range(256)) * 4, "cannot read"),
    Case("csv: oversized file", IMPORT, {"m.csv": 21_000_000}, message="larger than 20 MB"),
    Case("csv: missing file", ("meetings", "import", "nope.csv"), message="nope.csv: cannot read"),
    # -- exports and command-line arguments (exit 2) ------------------------------------------------
    Case("export: reversed period", ("archive", "export", "--from", "2027-03-01", "--to", "2027-01-01", "bag"),
         code=2, message="the period is reversed: --to 2027-01-01 is before --from 2027-03-01"),
    Case("export: last day of the calendar", ("archive", "export", "--from", "2027-01-01", "--to", "9999-12-31", "bag"),
         code=2, message="9999-12-31 is the last day of the calendar"),
    Case("export: not a date", ("archive", "export", "--from", "1 maart", "--to", "2027-01-01", "bag"),
         code=2, message="'1 maart' is not a date like 2027-03-01"),
    Case("report: reversed period", ("report", "--from", "2027-03-01", "--to", "2027-01-01"),
         code=2, message="the period is reversed"),
    Case("cli: unknown command", ("publish-everything",), code=2, message="invalid choice"),
    Case("cli: post id not a number", ("approve", "abc", "--reviewer", "x"), code=2, message="argument POST_ID: 'abc' is not a whole number"),
    Case("cli: reschedule to nonsense", ("reschedule", "1", "--at", "morgen"), code=2,
         message="--at 'morgen': write a local date and time"),
    Case("cli: history of a thousand years", ("demo", "--history", "1000y"), code=2,
         message="--history '1000y': write a number of years"),
    Case("cli: validate a missing file", ("validate", "nope.yaml"), code=2, message="nope.yaml: no such file"),
    # -- images (checked at validate, by content) ----------------------------------------------------
    image_case("image: outside the campaign folder", "../../x.png", {}, "image '../../x.png' is outside the campaign's folder"),
    image_case("image: absolute system file", "/etc/passwd", {}, "image '/etc/passwd' is outside the campaign's folder"),
    image_case("image: text file named .jpg", "poster.jpg", {"poster.jpg": "Dit is geen foto\n"}, "image 'poster.jpg': the file is not an image"),
    image_case("image: empty file", "poster.png", {"poster.png": b""}, "image 'poster.png': the file is not an image"),
    image_case("image: decompression bomb", "bomb.png", {"bomb.png": png_header(20000, 20000)},
               "image 'bomb.png': the image is too large to decode safely (400 megapixels; at most 60 megapixels)"),
    image_case("image: just over the pixel limit", "big.png", {"big.png": png_header(8000, 8000)},
               "image 'big.png': the image is too large to decode safely (64 megapixels"),
    image_case("image: truncated JPEG", "cut.jpg", {"cut.jpg": small_jpeg()[:200]}, "image 'cut.jpg': the image is damaged"),
    image_case("image: larger than 50 MB", "huge.jpg", {"huge.jpg": 51_000_000}, "image 'huge.jpg': the file is 51 MB; an image may be at most 50 MB"),
    image_case("image: missing", "nope.jpg", {}, "image 'nope.jpg' not found"),
    image_case("image: a folder", "pics", {"pics/a.txt": "x"}, "image 'pics' not found"),
    # -- outputs that cannot be written (exit 6) ---------------------------------------------------
    Case("output: export into /proc", ("archive", "export", "--from", "2027-01-01", "--to", "2027-01-02",
                                       "/proc/outreach-bag"), code=6, message="outreach: error: /proc/outreach-bag: "),
    Case("output: report into /proc", ("report", "--from", "2027-01-01", "--to", "2027-01-02", "--out",
                                       "/proc/outreach-report"), code=6, message="outreach: error: /proc/outreach-report"),
    Case("output: backup over the database", ("backup", "outreach.db"), code=6, message="backups never overwrite"),
    Case("output: render cards into a file", ("render", "c.yaml", "--out", "c.yaml/cards"), {"c.yaml": CAMPAIGN},
         code=6, message="outreach: error: c.yaml/cards"),
    # -- broken files given to commands that write: nothing is written ------------------------------
    Case("schedule: template bomb", ("schedule", "c.yaml"), text('"{% for x in range(10**9) %}{% endfor %}"'),
         message="posts[0].text.nl: the template counts to more than"),
    Case("schedule: alias bomb", ("schedule", "c.yaml"), yaml_file(
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        + "".join(f"{n}: &{n} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
                  for p, n in zip("abcdefgh", "bcdefghi", strict=True))), message="(yaml): the file expands to more than"),
    Case("schedule: date out of range", ("schedule", "c.yaml"), campaign("days: -7", "days: -1000000"),
         message="posts[0].at: the date falls outside the calendar"),
    Case("schedule: image outside the folder", ("schedule", "c.yaml"),
         {"c.yaml": image_case("x", "/etc/passwd", {}, "").files["c.yaml"]}, message="posts[0].image"),
    Case("plan: template output", ("plan", "c.yaml"), text('"{{ \'a\' * 100000000 }}"'),
         message="posts[0].text.nl: the template produces more than"),
    csv_case("csv: a pasted paragraph as header", ("meeting," + "a" * 500 + "\nx,1\n").encode(),
             "unknown column '" + "a" * 40 + "' (known:"),
    # -- numbers on the command line (exit 2, checked before anything runs) ------------------------
    Case("cli: post id beyond SQLite's integers", ("approve", "9" * 30, "--reviewer", "x"), code=2,
         message="is outside 1–9.22337e+18"),
    Case("cli: negative post id", ("retry", "--", "-3"), code=2, message="-3 is outside 1"),
    Case("cli: reach of 10^30", ("confirm", "1", "--permalink", "x", "--by", "y", "--reach", "1" + "0" * 30),
         code=2, message="is outside 0–1e+10"),
    Case("cli: port out of range", ("sandbox", "--port", "99999"), code=2, message="99999 is outside 0–65535"),
    Case("cli: negative demo scale", ("demo", "--scale", "-1"), code=2, message="-1 is outside 0.001–10"),
    Case("cli: reschedule before year 1", ("reschedule", "1", "--at", "0001-01-01 00:10"), code=2,
         message="is outside the calendar"),
    Case("date: recurring rule until the end of the calendar", VALIDATE, {"c.yaml": CAMPAIGN + (
        '  - id: weekly\n    cron: "0 10 * * fri"\n    from: 2027-01-01\n    until: 9999-12-31\n'
        '    text: {nl: Wekelijks}\n')}, message="posts[1].until: the date falls outside the calendar"),
    Case("date: two hours after the calendar's last meeting", VALIDATE,
         {"c.yaml": CAMPAIGN.replace("start: 2027-03-12 19:00", "start: 9999-12-31 23:30")
          .replace('at: {days: -7, time: "18:00"}', "at: {hours: 2}")},
         message="posts[0].at: the date falls outside the calendar"),
    config_case("config: privacy threshold in words", config(append='\n[privacy]\nthreshold = "tien"\n'),
                "[privacy] threshold: expected a whole number from 1 to 1,000,000, got 'tien'", STATUS),
    config_case("config: programme years of 10^22", config(append="\n[programme]\nyears = 10000000000000000000000\n"),
                "[programme] years: expected a whole number", STATUS),
    config_case("config: programme start not a date", config(append='\n[programme]\nstart = "gisteren"\n'),
                "[programme] start: 'gisteren' is not a date", STATUS),
    config_case("config: archive capture in Dutch", config(append='\n[archive]\ncapture = "nee"\n'),
                "[archive] capture: expected true or false, got 'nee'", STATUS),
    config_case("config: asset_dirs not a list", config(append='\n[media]\nasset_dirs = "photos"\n'),
                "[media] asset_dirs: expected a list of folders", STATUS),
    # -- files that never end (devices, pipes): refused, never read ----------------------------------
    Case("device: campaign /dev/zero", ("validate", "/dev/zero"), message="/dev/zero:1: (file): cannot read: not a regular file"),
    Case("device: CSV /dev/zero", ("meetings", "import", "/dev/zero"), message="/dev/zero: cannot read: not a regular file"),
    Case("device: CSV is a folder", ("meetings", "import", "."), message=".: cannot read: not a regular file"),
    Case("device: config /dev/zero", ("--config", "/dev/zero", "status"), code=3,
         message="/dev/zero: cannot read: not a regular file"),
    Case("size: a file that would make 10,400 posts", VALIDATE, {"c.yaml": many_meetings(2600)},
         message="posts[0]: the file would make more than 10,000 posts"),
    Case("size: meetings up to just under the size limit", VALIDATE, {"c.yaml": many_meetings(3900)},
         message="posts[0]: the file would make more than 10,000 posts"),
    # -- databases that cannot be used (exit 4) ------------------------------------------------------
    Case("database: a text file", STATUS, {"outreach.db": "geen database\n" * 100}, code=4,
         message="the database cannot be used: (sqlite3.DatabaseError) file is not a database"),
    Case("database: unreachable PostgreSQL", STATUS, code=4,
         config=config('url = "sqlite:///outreach.db"', 'url = "postgresql+psycopg://bob@127.0.0.1:1/x"'),
         message="the database cannot be used: (psycopg.OperationalError) connection failed"),
    Case("database: URL that is not one", STATUS, code=4, config=config('url = "sqlite:///outreach.db"', 'url = "nonsense"'),
         message="Could not parse SQLAlchemy URL"),
    Case("database: no driver for it", STATUS, code=4, config=config('url = "sqlite:///outreach.db"', 'url = "mysql://x@h/d"'),
         message="no driver installed (MySQLdb)"),
]
