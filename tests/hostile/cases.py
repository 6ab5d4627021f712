"""The table of hostile and broken inputs: (name, command, files, exit code, expected message).

`{c}` in a command is the campaign file `c.yaml`. Messages are matched as substrings of the
output's one line (or of every line, for campaign files that list several problems).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.hostile.harness import CAMPAIGN

TEXT = '      nl: "Bijeenkomst in {{ meeting.city }} op {{ meeting.start | date }}."'


@dataclass(frozen=True)
class Case:
    name: str
    argv: tuple[str, ...]
    files: dict[str, str | bytes] = field(default_factory=dict)
    code: int = 1
    message: str = ""
    config: str | None = None


def campaign(old: str, new: str) -> dict[str, str | bytes]:
    assert old in CAMPAIGN, old
    return {"c.yaml": CAMPAIGN.replace(old, new, 1)}


def text(template: str) -> dict[str, str | bytes]:
    """The campaign with the Dutch text replaced by `template` (a YAML double-quoted string)."""
    return campaign(TEXT, f"      nl: {template}")


def yaml_file(body: str) -> dict[str, str | bytes]:
    return {"c.yaml": body}


VALIDATE = ("validate", "c.yaml")

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
    Case("yaml: oversized file", VALIDATE, yaml_file("campaign:\n  name: " + "x" * 3_000_000 + "\n"),
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
]
