"""The day's MQL feed for sales: a CSV that opens cleanly in Excel (UTF-8 with BOM)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from nurture.config import Settings
from nurture.handoff.schema import ensure_tables
from nurture.warehouse import get_warehouse

FEED_SQL = """
select o.lead_id, o.cycle, o.email, l.first_name, l.last_name, l.company_name, l.job_title,
       o.grade, o.score, o.top_reasons, o.created_at
from ops.mql_outbox as o
left join marts.dim_lead as l on l.lead_id = o.lead_id
where o.created_at >= ? and o.created_at < ?
order by o.score desc, o.lead_id
"""
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
    "MQL日時",
]


@dataclass(frozen=True)
class FeedResult:
    path: Path
    rows: int


def write_feed(settings: Settings, day: date, japanese_headers: bool = False) -> FeedResult:
    """Write every MQL enqueued on `day` to `feeds/mql-<day>.csv`, replacing the file whole.

    The file is rebuilt from the outbox each time, so re-runs give the same file and
    never duplicate rows; deliveries are recorded per entry.
    """
    warehouse = get_warehouse(settings)
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    end = start + timedelta(days=1)
    with warehouse.transaction() as session:
        ensure_tables(session)
    frame = warehouse.query(FEED_SQL, [start, end])
    frame.columns = HEADERS_JA if japanese_headers else HEADERS_EN
    settings.feeds_dir.mkdir(parents=True, exist_ok=True)
    path = settings.feeds_dir / f"mql-{day.isoformat()}.csv"
    partial = path.with_suffix(".csv.partial")
    frame.to_csv(partial, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    os.replace(partial, path)
    delivered = frame.iloc[:, :2].copy()
    delivered.columns = ["lead_id", "cycle"]
    delivered = delivered.assign(
        target="csv_feed", status="delivered", detail=path.name, delivered_at=datetime.now(UTC)
    )
    with warehouse.transaction() as session:
        session.execute(
            "delete from ops.mql_deliveries where target = 'csv_feed' and detail = ?", [path.name]
        )
        session.insert_frame("ops.mql_deliveries", delivered)
    return FeedResult(path=path, rows=len(frame))
