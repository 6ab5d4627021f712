"""The impact report: one self-contained HTML file (inline CSS, charts as embedded SVG images) and a
PDF of the same page printed by headless Chromium. Dutch by default; counts of people under the
privacy threshold are shown as "<10"."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent
from jinja2 import Environment, FileSystemLoader, select_autoescape

from outreach import __version__, analytics, charts, privacy
from outreach.archive.figures import ReportFigures, gather_figures, plan_of
from outreach.archive.strings import strings
from outreach.db import Database
from outreach.domain import Platform
from outreach.errors import OutputError

TEMPLATES = Path(__file__).parent / "templates"
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PDF_TIMEOUT_S = 180.0


class PdfError(OutputError, RuntimeError):
    """Chromium was found but could not print the report; the message says what it answered."""


@dataclass(frozen=True, slots=True)
class ReportResult:
    html: Path
    pdf: Path | None
    message: str  # "" when the PDF was made, else why not (for the CLI to print)
    figures: ReportFigures


def find_chromium() -> str | None:
    """`$OUTREACH_CHROMIUM`, /usr/bin/chromium, or a Chromium/Chrome on PATH."""
    explicit = os.environ.get("OUTREACH_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    if Path("/usr/bin/chromium").is_file():
        return "/usr/bin/chromium"
    return next((found for name in CHROMIUM_CANDIDATES if (found := shutil.which(name))), None)


def write_report(db: Database, settings: Any, out_dir: str | os.PathLike[str], *, start: datetime,
                 end: datetime, organisation: str | None = None, language: str = "nl",
                 pdf: bool = True, now: datetime | None = None,
                 figures: ReportFigures | None = None) -> ReportResult:
    """Write `report.html` and (when Chromium is available) `report.pdf` into `out_dir`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fig = figures or gather_figures(db, settings, start=start, end=end, organisation=organisation, now=now)
    html_path = out / "report.html"
    html_path.write_text(render_html(fig, settings=settings, language=language), encoding="utf-8")
    if not pdf:
        return ReportResult(html_path, None, "PDF not requested", fig)
    chromium = find_chromium()
    if chromium is None:
        return ReportResult(html_path, None, "PDF skipped: Chromium not found (Debian: apt-get install "
                            "chromium; or set OUTREACH_CHROMIUM to a Chromium binary)", fig)
    pdf_path = out / "report.pdf"
    print_pdf(html_path, pdf_path, chromium=chromium)
    return ReportResult(html_path, pdf_path, "", fig)


def print_pdf(html_path: Path, pdf_path: Path, *, chromium: str, timeout_s: float = PDF_TIMEOUT_S) -> None:
    """Print a local HTML file to PDF with headless Chromium (own throwaway profile, no network use)."""
    with tempfile.TemporaryDirectory(prefix="outreach-chromium-") as profile:
        args = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-extensions", f"--user-data-dir={profile}",
                "--no-pdf-header-footer", "--print-to-pdf-no-header", "--run-all-compositor-stages-before-draw",
                f"--print-to-pdf={pdf_path.resolve()}", html_path.resolve().as_uri()]
        pdf_path.unlink(missing_ok=True)
        try:
            done = subprocess.run(args, capture_output=True, text=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise PdfError(f"Chromium did not finish printing {html_path.name} within {timeout_s:g} s") from None
    if not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        tail = (done.stderr or "").strip().splitlines()[-3:]
        raise PdfError(f"Chromium exited with {done.returncode} and wrote no PDF: {' | '.join(tail)}")


def render_html(fig: ReportFigures, *, settings: Any, language: str = "nl") -> str:
    t = strings(language)
    locale = "nl_NL" if language == "nl" else "en_GB"
    tz = ZoneInfo(getattr(settings, "timezone", "Europe/Amsterdam"))
    threshold = fig.programme.threshold

    def n(value: int | None) -> str:
        return "—" if value is None else format_decimal(value, locale=locale)

    def people(value: int | privacy.Count | None) -> str:
        """Counts of people: below the threshold "<10", hidden to protect one "×" (`outreach.privacy`)."""
        if isinstance(value, privacy.Count):
            return n(value.value) if value.value is not None else "—" if not value.known else value.display
        if value is None:
            return "—"
        return privacy.people(value, threshold=threshold) if privacy.is_small(value, threshold) else n(value)

    def hours(value: float | None) -> str:
        """Watch time in hours (analytics.watch_hours), one decimal; the words for "no data" where none is reported."""
        return t["no_data"] if value is None else format_decimal(value, "#,##0.0", locale=locale)

    def when(moment: datetime | None) -> str:
        return "—" if moment is None else format_datetime(moment.astimezone(tz), "d MMM y HH:mm", locale=locale)

    last_day = (fig.end - timedelta(microseconds=1)).astimezone(tz).date()
    period = (f"{format_date(fig.start.astimezone(tz).date(), 'long', locale=locale)} – "
              f"{format_date(last_day, 'long', locale=locale)}")
    target = plan_of(fig)
    share = fig.meetings_held_to_date / target if target else 0.0
    of_alliance = (fig.meetings_held_to_date / fig.alliance_held_to_date
                   if target is None and fig.alliance_held_to_date else None)
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["j2", "html"]))
    return env.get_template("report.html.j2").render(
        t=t, f=fig, language=language, period=period, n=n, people=people, when=when, hours=hours,
        name=_platform_names(t),
        day=lambda value: format_date(value, "long", locale=locale),
        month=lambda value: format_date(value, "MMM y", locale=locale),
        b64=lambda data: base64.b64encode(data).decode("ascii"),
        org_label=_org_label(fig, t), generated=when(fig.generated_at),
        pct=format_percent(share, locale=locale), pct_width=f"{min(100.0, share * 100):.1f}", target=target,
        of_alliance=None if of_alliance is None else t["of_alliance"].format(
            share=format_percent(of_alliance, locale=locale), n=n(fig.alliance_held_to_date)),
        reach_total=fig.reach_total,
        evaluation=format_decimal(round(fig.evaluation_mean, 1), locale=locale)
        if fig.evaluation_mean is not None else "—",
        languages=list(fig.posts_by_language), charts=_charts(fig, t, language),
        org_share=lambda o: format_percent(o.meetings_held / fig.meetings_held, locale=locale)
        if fig.meetings_held else "—",
        src=fig.sources or analytics.Sources([], [], {}), host=lambda url: urlsplit(url).netloc or url,
        method=t["method_text"].format(threshold=threshold, young=fig.programme.young,
                                       tz=tz.key, version=__version__))


def _org_label(fig: ReportFigures, t: dict[str, str]) -> str:
    if fig.organisation is None:
        return t["all_organisations"]
    names = {o.code: o.name for o in fig.organisations}
    return f"{fig.organisation} ({names[fig.organisation]})" if fig.organisation in names else fig.organisation


def _platform_names(t: dict[str, str]) -> Callable[[str], str]:
    """How the report names a platform: "YouTube" from its connector; manual channels in the report's language."""
    return lambda platform: t["platform_manual"] if platform == Platform.MANUAL else analytics.platform_name(platform)


def _charts(fig: ReportFigures, t: dict[str, str], language: str) -> dict[str, str]:
    """The report's charts from the dashboard's own definitions (`outreach.charts`), as SVG."""
    months = _month_range(fig)
    total, cumulative = max(0, fig.meetings_held_to_date - fig.meetings_held), []
    for month in months:
        total += fig.meetings_by_month.get(month, 0)
        cumulative.append({"month": month, "held": total})
    target = plan_of(fig)  # no plan for this organisation: no target line (a zero target stays out of view)

    def draw(chart: Any) -> str:
        return charts.data_uri(charts.svg(chart))

    result = {"meetings": draw(charts.line_chart(
        cumulative, x="month", series={"held": t["meetings_to_date"]}, width=charts.WIDTH, language=language,
        target=target or None, target_label=t["target_line"].format(target=target) if target else ""))}
    by_org = [{"label": o.code, "value": o.meetings_held} for o in fig.organisations if o.meetings_held]
    if len(by_org) > 1:
        result["meetings_by_org"] = draw(charts.bar_chart(by_org, category="label", value="value",
                                                          width=charts.WIDTH - 120, language=language))
    if fig.organisation is None and len(fig.organisations) > 1:  # a page per organisation, its own months
        for o in fig.organisations:
            total, rows = 0, []
            for month in months:
                total += o.held_by_month.get(month, 0)
                rows.append({"month": month, "held": total})
            result[f"org_{o.code}"] = draw(charts.line_chart(rows, x="month", series={"held": t["meetings_held"]},
                                                             width=charts.WIDTH, language=language))
    name = _platform_names(t)
    posts = [{"label": name(platform), "value": count} for platform, count in fig.posts_by_platform.items()]
    result["posts"] = draw(charts.bar_chart(posts, category="label", value="value", width=charts.WIDTH - 120,
                                            language=language))
    return result


def _month_range(fig: ReportFigures) -> list[str]:
    """Every month from the period's start to its end (or to the report date, if earlier)."""
    last = min(fig.end - timedelta(seconds=1), max(fig.generated_at, fig.start))
    year, month = fig.start.year, fig.start.month
    months = []
    while (year, month) <= (last.year, last.month) and len(months) < 240:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months
