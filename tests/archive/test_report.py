"""The impact report: self-contained HTML in Dutch (English on request), small counts suppressed,
youth reach kinds kept apart, and a PDF that poppler can render."""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from outreach import analytics, privacy
from outreach.analytics import Filters
from outreach.archive import write_report
from outreach.archive.figures import gather_figures
from outreach.archive.report import find_chromium
from outreach.config import parse_settings
from outreach.harvest.definitions import definitions
from tests.archive.conftest import Programme
from tests.archive.seed import END, NOW, START
from tests.system import unavailable


def test_figures_are_hand_checkable(programme: Programme) -> None:
    f = gather_figures(programme.db, programme.settings, start=START, end=END, now=NOW, cards=False)
    assert (f.meetings_held, f.meetings_planned, f.meetings_other) == (3, 1, 1)
    assert f.meetings_held_to_date == 4  # m0 (2025) + m1, m2, m3
    assert (f.attendance.value, f.attendance_youth.value, f.meetings_with_outcome) == (33, 21, 2)
    # 33 - 19 - 12 = 2 would pin "other" and "unknown" (both "<10") to 1 each: "man" is hidden too
    assert {g: c.display for g, c in f.attendance_by_gender.items()} == \
        {"woman": "19", "man": "×", "other": "<10", "unknown": "<10"}
    assert f.posts_published == 4
    assert f.posts_by_platform == {"mastodon": 2, "instagram": 2}
    assert f.posts_by_language == {"nl": 2, "tr": 1, "ar": 1}
    reach = {r.platform: r for r in f.reach}
    ig, masto = reach["instagram"], reach["mastodon"]
    assert (ig.reach.value, ig.youth_measured.value, ig.posts_measured, ig.youth_estimated.value,
            ig.posts_estimated) == (1200, 400, 1, 90, 1)
    assert (masto.reach.value, masto.posts_with_reach, masto.views.value, masto.posts_unknown) == (None, 0, 160, 2)
    assert (ig.watch_time_h, masto.watch_time_h) == (2.5, None)  # Mastodon reports no watch time
    assert [p.post_id for p in f.top_posts][:2] == [programme.seeded.post_ids["p3"], programme.seeded.post_ids["p4"]]
    assert [p.youth_kind for p in f.top_posts] == ["measured", "estimated"]  # posts without reach are not ranked
    dashboard = analytics.top_posts(programme.db, limit=5, filters=Filters(start=START, end=END))
    assert [p.post_id for p in f.top_posts] == [p.post_id for p in dashboard]  # ranked as in the dashboard
    by_org = {o.code: o for o in f.organisations}
    assert by_org["IOT"].meetings_held == 2
    assert (by_org["IOT"].attendance.display, by_org["SMN"].attendance.display) == ("×", "<10")  # 33 - 27 = 6


def test_html_is_self_contained_dutch_and_suppresses_small_counts(programme: Programme, tmp_path: Path) -> None:
    result = write_report(programme.db, programme.settings, tmp_path, start=START, end=END, now=NOW, pdf=False)
    html = result.html.read_text(encoding="utf-8")
    assert "<script" not in html and "<link" not in html
    assert not re.findall(r"""src=["'](?!data:)""", html)  # nothing loaded from anywhere
    sources = {d.source for d in definitions()}  # links (not loaded): permalinks and the methods page's sources
    assert not [url for url in re.findall(r"""href=["']([^"']*)""", html) if url not in sources
                and not re.match(r"https?://www\.instagram\.com/p/|http://127\.0\.0\.1", url)]
    assert html.count('src="data:image/svg+xml;base64,') >= 2  # charts as embedded images
    assert html.count('src="data:image/png;base64,') >= 1  # the published card (posts without reach are not ranked)
    for words in ("Impactrapport", "Bijeenkomsten gehouden", "Jongeren gemeten", "Jongeren geschat",
                  "1 januari 2026 – 31 december 2026", "4 / 700"):
        assert words in html, words
    smn_row = re.search(r"<b>SMN</b>.*?</tr>", html, re.S)
    assert smn_row and "&lt;10" in smn_row.group(0)  # 6 attendees
    assert ">33<" in html  # total attendance is shown exactly
    table = html.split("Kijktijd (uren)", 1)[1].split("</table>", 1)[0]  # the reach table, per platform
    rows = {m.group(1): m.group(0) for m in re.finditer(r"<tr><td>(Instagram|Mastodon)</td>.*?</tr>", table, re.S)}
    assert ">2,5<" in rows["Instagram"] and ">geen gegevens<" in rows["Mastodon"]
    english = write_report(programme.db, programme.settings, tmp_path / "en", start=START, end=END, now=NOW,
                           pdf=False, language="en").html.read_text(encoding="utf-8")
    assert "Impact report" in english and "Impactrapport" not in english
    assert "Watch time (hours)" in english and ">2.5<" in english and ">no data<" in english
    with pytest.raises(ValueError, match="available: en, nl"):
        write_report(programme.db, programme.settings, tmp_path / "x", start=START, end=END, language="fr")


def test_pdf_renders_with_pdftoppm(programme: Programme, tmp_path: Path) -> None:
    if find_chromium() is None:
        unavailable("Chromium (apt-get install chromium)")
    pdf = programme.bag / "data" / "report" / "report.pdf"  # made by the export, with headless Chromium
    assert pdf.read_bytes().startswith(b"%PDF-")
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert 2 <= len(pages) <= 7  # the methods page lists every metric definition, watch time included
    with Image.open(pages[0]) as first:
        assert first.size[0] < first.size[1]  # A4 portrait
        colours = first.convert("RGB").getcolors(maxcolors=1 << 16)
        assert colours is None or len(colours) > 20  # drawn content, not a blank page
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Impactrapport" in text and "Per organisatie" in text


def test_pdf_skipped_with_a_clear_message_without_chromium(programme: Programme, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTREACH_CHROMIUM", str(tmp_path / "no-such-chromium"))
    result = write_report(programme.db, programme.settings, tmp_path, start=START, end=END, now=NOW)
    assert result.pdf is None and "Chromium not found" in result.message
    assert result.html.is_file()


def test_no_small_count_in_the_report_follows_from_its_totals(programme: Programme) -> None:
    from tests.test_privacy import attack_output

    f = gather_figures(programme.db, programme.settings, start=START, end=END, now=NOW, cards=False)
    attack_output(dict(f.attendance_by_gender), f.attendance)
    attack_output({o.code: o.attendance for o in f.organisations}, f.attendance)
    attack_output({o.code: o.youth_offline for o in f.organisations}, f.attendance_youth)
    attack_output({r.platform: r.reach for r in f.reach}, f.reach_total)


def test_a_report_for_one_organisation_is_not_judged_against_the_700(programme: Programme, tmp_path: Path) -> None:
    html = write_report(programme.db, programme.settings, tmp_path, start=START, end=END, now=NOW, pdf=False,
                        organisation="IOT").html.read_text(encoding="utf-8")
    assert "/ 700" not in html and "doel: 700" not in html
    assert "van alle 4 van de alliantie; geen eigen plan ingesteld" in html  # its share of the alliance instead


def test_methods_page_is_generated_from_the_settings_and_the_data(programme: Programme, tmp_path: Path) -> None:
    view = Filters(start=START, end=END)
    src = analytics.sources(programme.db, filters=view)
    assert src.measured == {"instagram": 1}  # p3: the platform counted its young viewers
    assert [(e.platform, e.metric, e.young, e.posts) for e in src.estimates] == \
        [("instagram", "follower_demographics", "13-24", 1)]  # p4 only: a measured post is not estimated
    assert src.definitions == []  # the seeded snapshots record no definition set ...
    unrecorded = {(d.platform, d.raw_name) for d in src.unrecorded}  # ... so those valid in 2026 are named
    assert {("instagram", "reach"), ("instagram", "views"), ("mastodon", "favourites_count")} <= unrecorded
    assert ("instagram", "impressions") not in unrecorded  # retired in April 2025, before any of these snapshots

    raw = dict(programme.settings.raw, youth={"young": "16-27"}, privacy={"threshold": 5})
    settings = parse_settings(raw, source="<methods test>", environ={})
    for language, words in (("nl", ("Verantwoording", "16-27 jaar", "onder 5 worden", "volgers naar leeftijd",
                                    "Instagram (1 berichten)", "favourites_count", "mrt 2026 – mrt 2026")),
                            ("en", ("Method", "16-27 years", "below 5 are", "followers by age",
                                    "Instagram (1 posts)", "favourites_count", "Mar 2026 – Mar 2026"))):
        html = write_report(programme.db, settings, tmp_path / language, start=START, end=END, now=NOW, pdf=False,
                            language=language).html.read_text(encoding="utf-8")
        methods = html[html.index('<section class="methods">'):]
        for expected in words:
            assert expected in methods, (language, expected)
        # the estimate row names the range its share was taken over when harvested, whatever [youth] says now
        assert "<td>13-24</td>" in methods and methods.count("13-24") == 1


PLATFORMS8 = ("instagram", "facebook", "threads", "linkedin", "tiktok", "youtube", "mastodon", "bluesky")
LANGUAGES9 = ("nl", "ar", "tr", "ku", "so", "ti", "fa", "en", "ber")


def words_per_page(pdf: Path) -> list[list[tuple[float, float, str]]]:
    """pdftotext's word boxes: per page, (x_max, page_width, word)."""
    xml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = []
    for m in re.finditer(r'<page width="([\d.]+)"[^>]*>(.*?)</page>', xml, re.S):
        width = float(m.group(1))
        pages.append([(float(x), width, w) for x, w in re.findall(r'xMax="([\d.]+)"[^>]*>([^<]*)</word>', m.group(2))])
    return pages


@pytest.mark.parametrize("language", ["nl", "en"])
def test_eight_platforms_by_nine_languages_fit_a4_with_their_totals(programme: Programme, tmp_path: Path,
                                                                    language: str) -> None:
    """The widest tables stay inside the page, and a table's total row is printed with its table."""
    if find_chromium() is None:
        unavailable("Chromium (apt-get install chromium)")
    fig = gather_figures(programme.db, programme.settings, start=START, end=END, now=NOW, cards=False)
    fig.posts_by_platform_language = {(p, lang): 1000 + 37 * i * j
                                      for i, p in enumerate(PLATFORMS8) for j, lang in enumerate(LANGUAGES9)}
    fig.posts_by_platform = {p: sum(v for (q, _), v in fig.posts_by_platform_language.items() if q == p)
                             for p in PLATFORMS8}
    fig.posts_by_language = {lang: sum(v for (_, m), v in fig.posts_by_platform_language.items() if m == lang)
                             for lang in LANGUAGES9}
    fig.posts_published = sum(fig.posts_by_platform.values())
    big = privacy.Count(12_345_678)
    fig.reach = [replace(fig.reach[0], platform=p, posts=21_600, reach=big, views=big, engagement=big,
                         youth_measured=big, posts_measured=10_000, youth_estimated=big, posts_estimated=10_000,
                         posts_unknown=1_600) for p in PLATFORMS8]
    pdf = write_report(programme.db, programme.settings, tmp_path, start=START, end=END, now=NOW, figures=fig,
                       language=language).pdf
    assert pdf is not None
    pages = words_per_page(pdf)
    for number, words in enumerate(pages, 1):
        outside = [w for x, width, w in words if x > width - 30]  # 30 pt ≈ 10 mm of the 14 mm margin
        assert not outside, f"page {number}: {outside} run past the edge"
    def shown(n: int) -> str:
        return f"{n:,}".replace(",", "." if language == "nl" else ",")

    last_total = shown(fig.posts_by_language["ber"])  # the total row's last language cell
    page = next(i for i, words in enumerate(pages) if last_total in [w for _, _, w in words])
    on_that_page = [w for _, _, w in pages[page]]
    assert {"Instagram", "Bluesky", "ber", shown(fig.posts_published)} <= set(on_that_page)  # rows (named), column, total
    assert sum(w == shown(1_600) for words in pages for _, _, w in words) == 8  # the youth table's last column


def test_report_figures_read_the_same_on_postgresql_and_sqlite(pg_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """meeting_tallies and sources group by expressions whose SQL differs per dialect: same history, same figures."""
    from outreach.config import parse_settings as settings_of
    from outreach.db import Database
    from outreach.db.migrate import upgrade
    from outreach.harvest.synthetic import START, generate_history

    lite = Database(f"sqlite:///{tmp_path / 'o.db'}")
    upgrade(lite)
    settings = settings_of({"state_dir": str(tmp_path / "state")}, environ={})
    end = START.replace(year=START.year + 1)
    found = []
    for db in (pg_db, lite):
        generate_history(db, years=1, scale=0.01, seed=7, as_of=end)
        f = gather_figures(db, settings, start=START, end=end, now=end, cards=False)
        src = analytics.sources(db, filters=Filters(start=START, end=end))
        found.append((f.meetings_held, f.meetings_planned, f.meetings_other, f.meetings_by_month,
                      f.meetings_with_outcome, f.attendance.value, f.attendance_youth.value, f.meetings_held_to_date,
                      [(o.code, o.meetings_held, o.attendance.display) for o in f.organisations],
                      [(e.platform, e.metric, e.posts) for e in src.estimates], src.measured,
                      [d.id for d in src.unrecorded]))
    lite.dispose()
    assert found[0] == found[1]
    assert found[0][0] > 0 and found[0][4] > 0 and found[0][9]  # something was counted


def test_a_page_per_organisation_in_the_alliance_report_only(programme: Programme, tmp_path: Path) -> None:
    if find_chromium() is None:
        unavailable("Chromium (apt-get install chromium)")
    alliance = write_report(programme.db, programme.settings, tmp_path / "all", start=START, end=END, now=NOW).pdf
    pages = subprocess.run(["pdftotext", str(alliance), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    pages = [" ".join(p.split()) for p in pages]
    for code in ("IOT", "SMN"):
        own = [p for p in pages if p.lstrip().startswith(f"{code} · ")]
        assert len(own) == 1, code  # its page starts with its name
        assert "van alle gehouden bijeenkomsten van de alliantie" in own[0] and f"van {code}" in own[0]
    iot = write_report(programme.db, programme.settings, tmp_path / "iot", start=START, end=END, now=NOW,
                       organisation="IOT").pdf
    text = subprocess.run(["pdftotext", str(iot), "-"], capture_output=True, text=True, check=True).stdout
    assert not [p for p in text.split("\f") if p.lstrip().startswith("IOT · ")]  # the report is already its own
