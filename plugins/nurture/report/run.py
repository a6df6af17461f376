"""Write the report: read the marts, apply the rules, render, save it where people look.

`NURTURE_HOME/reports/report-<UTC time>.html`, and the same as `latest.html` (replaced
atomically, so a browser or a file share never sees half a page). The newest
`KEEP_REPORTS` timestamped reports are kept; older ones are removed.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nurture.config import Settings
from nurture.report import data, rules
from nurture.report.charts import build_charts
from nurture.report.page import render_page
from nurture.report.targets import load_targets, statuses
from nurture.retryable import fail_fast
from nurture.warehouse import get_warehouse

REPORTS_DIR = "reports"
LATEST = "latest.html"
PREFIX = "report-"
KEEP_REPORTS = 30


@dataclass(frozen=True)
class ReportResult:
    path: Path
    latest: Path | None
    size_bytes: int
    seconds: float
    recommendations: int
    sections_with_data: int
    sections: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "latest": str(self.latest) if self.latest else None,
            "size_bytes": self.size_bytes,
            "seconds": round(self.seconds, 2),
            "recommendations": self.recommendations,
            "sections_with_data": self.sections_with_data,
            "sections": self.sections,
        }

    def render(self) -> str:
        return (
            f"report: {self.path} ({self.size_bytes / 1e6:.1f} MB, {self.seconds:.1f}s; "
            f"{self.sections_with_data} of {self.sections} sections with data, "
            f"{self.recommendations} things to do)"
            + (f"\nlatest: {self.latest}" if self.latest else "")
        )


def reports_dir(settings: Settings) -> Path:
    return settings.home / REPORTS_DIR


def latest_report(settings: Settings) -> Path | None:
    path = reports_dir(settings) / LATEST
    return path if path.exists() else None


def build_html(
    settings: Settings, targets_path: Path | None = None, now: datetime | None = None
) -> tuple[str, dict[str, data.SectionData], int]:
    """The page's HTML, the sections it was made from and its number of recommendations."""
    from plotly.offline import get_plotlyjs

    targets = load_targets(targets_path)  # first: a bad targets file fails before any query
    sections = data.load_sections(get_warehouse(settings))
    values = data.kpi_values(sections)
    target_statuses = statuses(targets, values)
    recommendations = rules.recommend(sections, target_statuses)
    charts = {key: build_charts(section) for key, section in sections.items()}
    page = render_page(
        sections,
        charts,
        values,
        target_statuses,
        targets,
        recommendations,
        rules.rules(),
        generated_at=now or datetime.now(UTC),
        warehouse_kind=settings.warehouse,
        plotly_js=get_plotlyjs(),
    )
    return page, sections, len(recommendations)


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report(
    settings: Settings,
    targets_path: Path | None = None,
    output: Path | None = None,
    now: datetime | None = None,
) -> ReportResult:
    """Write the report. `output`: one file there instead of the reports folder."""
    started = time.monotonic()
    now = now or datetime.now(UTC)
    page, sections, recommendations = build_html(settings, targets_path, now)
    if output is not None:
        path, latest = Path(output), None
        _write_atomic(path, page)
    else:
        folder = reports_dir(settings)
        path = folder / f"{PREFIX}{now:%Y%m%dT%H%M%SZ}.html"
        latest = folder / LATEST
        _write_atomic(path, page)
        _write_atomic(latest, page)
        _prune(folder)
    return ReportResult(
        path=path,
        latest=latest,
        size_bytes=path.stat().st_size,
        seconds=time.monotonic() - started,
        recommendations=recommendations,
        sections_with_data=sum(1 for s in sections.values() if s.available),
        sections=len(sections),
    )


def ensure_report(settings: Settings, since: float) -> Path:
    """`latest.html` as written at or after `since` (a `time.time()`), writing it if not."""
    latest = latest_report(settings)
    if latest is not None and latest.stat().st_mtime >= since:
        return latest
    result = write_report(settings)
    assert result.latest is not None
    return result.latest


def _prune(folder: Path) -> None:
    reports = sorted(folder.glob(f"{PREFIX}*.html"))
    for old in reports[:-KEEP_REPORTS]:
        old.unlink(missing_ok=True)


@fail_fast
def report_task() -> dict[str, Any]:
    """The scoring DAG's report task: the report from the marts this run left (a bad
    targets file or a bug fails it at once; a busy warehouse is retried)."""
    from nurture.config import load_settings

    return write_report(load_settings()).as_dict()
