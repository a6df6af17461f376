"""The CSV feed target: the day's file for sales, one that opens cleanly in Excel (UTF-8
with BOM, CRLF), under `NURTURE_HOME/feeds/mql-<day>.csv`. A cell of lead data that a
spreadsheet would run as a formula starts with `'` (`nurture.escaping.csv_cell`).

The day's file holds the entries recorded in it before plus every entry still pending
for the feed; it is rebuilt whole from the warehouse on every run and replaces the old
one atomically (temp file + rename), so a re-run or a crash never leaves a duplicate
row, a half-written file, or an entry in two days' files.
"""

from __future__ import annotations

import csv
import io
import os
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from nurture.config import Settings
from nurture.escaping import csv_cell
from nurture.handoff.outbox import Delivery, Entry, entries_for, record
from nurture.handoff.targets import TargetResult
from nurture.warehouse import get_warehouse

TARGET = "csv_feed"
HEADERS_EN = [
    "lead_id",
    "cycle",
    "email",
    "first_name",
    "last_name",
    "company",
    "title",
    "grade",
    "score",
    "reasons",
    "owner",
    "mql_at",
]
HEADERS_JA = [
    "リードID",
    "サイクル",
    "メールアドレス",
    "名",
    "姓",
    "会社名",
    "役職",
    "グレード",
    "スコア",
    "理由",
    "担当者",
    "MQL日時",
]


@dataclass(frozen=True)
class FeedResult:
    path: Path
    rows: int


def feed_path(settings: Settings, day: date) -> Path:
    return settings.feeds_dir / f"mql-{day.isoformat()}.csv"


def _row(e: Entry) -> list[object]:
    # every cell of lead data or our own text is neutralised alike (nurture.escaping)
    return [
        csv_cell(e.lead_id),
        e.cycle,
        csv_cell(e.email),
        csv_cell(e.first_name),
        csv_cell(e.last_name),
        csv_cell(e.company_name),
        csv_cell(e.job_title),
        csv_cell(e.grade),
        f"{e.score:.1f}",
        csv_cell(e.top_reasons),
        csv_cell(e.owner_name),
        e.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
    ]


def write_feed(settings: Settings, day: date, japanese_headers: bool = False) -> FeedResult:
    """Rebuild the day's file and record its new entries as delivered."""
    warehouse = get_warehouse(settings)
    path = feed_path(settings, day)
    entries = entries_for(warehouse, TARGET, also_external_id=path.name)
    entries.sort(key=lambda e: (-e.score, e.lead_id, e.cycle))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADERS_JA if japanese_headers else HEADERS_EN)
    writer.writerows(_row(e) for e in entries)
    settings.feeds_dir.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    with open(partial, "w", encoding="utf-8-sig", newline="") as handle:
        handle.write(buffer.getvalue())
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)
    now = datetime.now(UTC)
    record(
        warehouse,
        TARGET,
        [
            Delivery(
                e.lead_id,
                e.cycle,
                "delivered",
                detail=path.name,
                external_id=path.name,
                delivered_at=now,
                idempotency_key=e.key,
                attempt=True,
            )
            for e in entries
            if e.status != "delivered"
        ],
    )
    return FeedResult(path=path, rows=len(entries))


def deliver(settings: Settings, day: date, japanese_headers: bool = False) -> TargetResult:
    started = time.monotonic()
    result = TargetResult(TARGET)
    try:
        feed = write_feed(settings, day, japanese_headers)
    except OSError as exc:
        result.error = f"CSV feed: could not write {feed_path(settings, day)}: {exc}"
        return result
    result.delivered = feed.rows
    result.seconds = round(time.monotonic() - started, 3)
    return result
