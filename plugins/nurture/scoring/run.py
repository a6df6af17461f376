"""The scoring task: score the lead base, record the run, and enqueue new MQLs."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from nurture.config import Settings
from nurture.handoff.schema import ensure_tables
from nurture.scoring.rules import RULES_PATH, load_rules
from nurture.scoring.score import score_leads
from nurture.warehouse import get_warehouse

log = logging.getLogger(__name__)

LEADS_SQL = """
select lead_id, email, job_title as title, industry, number_of_employees,
       is_unsubscribed, is_email_invalid
from marts.dim_lead
where not is_deleted
"""
EVENTS_SQL = """
select lead_id, activity_type, occurred_at
from marts.fct_engagement_events
where occurred_at < ?
"""
OUTBOX_COUNT = "select count(*) from ops.mql_outbox"
SCORE_COLUMNS = [
    "lead_id",
    "run_id",
    "rules_version",
    "scored_at",
    "fit_score",
    "engagement_score",
    "score",
    "grade",
    "is_mql",
    "top_reasons",
]
OUTBOX_COLUMNS = [
    "lead_id",
    "cycle",
    "run_id",
    "email",
    "score",
    "grade",
    "top_reasons",
    "created_at",
]


@dataclass(frozen=True)
class ScoringSummary:
    run_id: str
    rules_version: str
    leads_scored: int
    mqls: int
    new_outbox_entries: int


def run_scoring(
    settings: Settings, as_of: datetime, rules_path: Path = RULES_PATH
) -> ScoringSummary:
    """Scores as of `as_of` (the logical date): the same date always gives the same rows.

    Scores and new outbox entries are written in one transaction, so an MQL is never
    enqueued without its score, nor scored without being enqueued.
    """
    rules = load_rules(rules_path)
    warehouse = get_warehouse(settings)
    leads = warehouse.query(LEADS_SQL)
    events = warehouse.query(EVENTS_SQL, [as_of])
    scores = score_leads(leads, events, rules, as_of)
    run_id = f"score:{as_of.astimezone(UTC).isoformat()}"
    scores = scores.assign(run_id=run_id, rules_version=rules.version, scored_at=as_of)
    mqls = scores.loc[scores["is_mql"]].assign(cycle=1, created_at=as_of)
    with warehouse.transaction() as session:
        ensure_tables(session)
        session.execute("delete from marts.fct_lead_scores where run_id = ?", [run_id])
        session.insert_frame("marts.fct_lead_scores", scores[SCORE_COLUMNS])
        session.execute(
            "create temporary table mql_candidates as select * from ops.mql_outbox where false"
        )
        session.insert_frame("mql_candidates", mqls[OUTBOX_COLUMNS])
        before = session.scalar(OUTBOX_COUNT)
        session.execute(
            "insert into ops.mql_outbox select c.* from mql_candidates as c "
            "where not exists (select 1 from ops.mql_outbox as o "
            "where o.lead_id = c.lead_id and o.cycle = c.cycle)"
        )
        added = session.scalar(OUTBOX_COUNT) - before
        session.execute("drop table mql_candidates")
    summary = ScoringSummary(
        run_id=run_id,
        rules_version=rules.version,
        leads_scored=len(scores),
        mqls=int(scores["is_mql"].sum()),
        new_outbox_entries=added,
    )
    log.info("scoring: %s", summary)
    return summary
