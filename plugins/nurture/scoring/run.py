"""The scoring task: score the lead base, fit the model, record the run, enqueue new MQLs."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from nurture.config import Settings
from nurture.scoring.lifecycle import VERDICT_STAGES, decide_cycles
from nurture.scoring.model import ModelReport, feature_frame, train_and_predict
from nurture.scoring.rules import RULES_PATH, Rules, load_rules
from nurture.scoring.schema import ensure_scoring_tables
from nurture.scoring.score import (
    engagement_matrix,
    grade_and_mql,
    points_matrix,
    top_reasons,
)
from nurture.warehouse import get_warehouse

log = logging.getLogger(__name__)

LEADS_SQL = """
select lead_id, email, email_domain, job_title, seniority, department, industry,
       size_band, lead_source, funnel_stage, is_converted, is_unsubscribed,
       is_email_invalid, created_at
from marts.dim_lead
where not is_deleted
    and (created_at is null or created_at <= ?)
order by lead_id
"""
EVENTS_SQL = """
select lead_id, activity_type, program_status, channel, webpage_url, occurred_at
from marts.fct_engagement_events
where occurred_at <= ?
    and lead_id is not null
"""
VERDICTS_SQL = """
select lead_id, stage, entered_at
from intermediate.int_lifecycle_stage_history
where stage in ({stages})
"""
OUTBOX_SQL = "select lead_id, cycle, created_at from ops.mql_outbox where run_id <> ?"
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
    "meets_mql_rule",
    "is_mql",
    "mql_cycle",
    "predicted_conversion_probability",
    "model_id",
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
    model: str

    def render(self) -> str:
        """What `nurture score` prints: a few labelled lines, not a repr."""
        rows = [
            ("run", self.run_id),
            ("rules version", self.rules_version),
            ("leads scored", f"{self.leads_scored:,}"),
            ("MQLs", f"{self.mqls:,}"),
            ("new in the outbox", f"{self.new_outbox_entries:,}"),
            ("model", self.model),
        ]
        width = max(len(label) for label, _ in rows)
        return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)

    def as_dict(self) -> dict[str, object]:
        return {
            "run_id": self.run_id,
            "rules_version": self.rules_version,
            "leads_scored": self.leads_scored,
            "mqls": self.mqls,
            "new_outbox_entries": self.new_outbox_entries,
            "model": self.model,
        }


def _scores(leads: pd.DataFrame, events: pd.DataFrame, rules: Rules, as_of: datetime):
    engagement = engagement_matrix(events, leads["lead_id"], rules, as_of, recency=True)
    matrix = points_matrix(leads, engagement, rules)
    return engagement, matrix, matrix.total(fit=True), matrix.total(fit=False)


def score_run(
    leads: pd.DataFrame,
    events: pd.DataFrame,
    outbox: pd.DataFrame,
    verdicts: pd.DataFrame,
    rules: Rules,
    as_of: datetime,
    run_id: str,
    models_dir: Path,
) -> tuple[pd.DataFrame, ModelReport]:
    """Everything the run decides, without the warehouse: one score row per lead."""
    engagement, matrix, fit, eng = _scores(leads, events, rules, as_of)
    grade, meets = grade_and_mql(fit, eng, rules)

    predicted, report = train_and_predict(
        leads,
        feature_frame(leads, engagement, matrix),
        fit + eng,
        rules,
        as_of,
        model_id=run_id,
        models_dir=models_dir,
    )
    cycles = decide_cycles(leads["lead_id"], meets, outbox, verdicts, rules.lifecycle, as_of)
    scores = pd.DataFrame(
        {
            "lead_id": leads["lead_id"].to_numpy(),
            "email": leads["email"].to_numpy(),
            "run_id": run_id,
            "rules_version": rules.version,
            "scored_at": as_of,
            "fit_score": fit,
            "engagement_score": eng,
            "score": np.round(fit + eng, 2),
            "grade": grade,
            "meets_mql_rule": meets,
            "is_mql": cycles["is_mql"].to_numpy(),
            "mql_cycle": cycles["mql_cycle"].astype("Int64").array,
            "is_new_cycle": cycles["is_new_cycle"].to_numpy(),
            "predicted_conversion_probability": np.round(predicted, 5),
            "model_id": run_id if report.status == "trained" else None,
            "top_reasons": top_reasons(matrix),
        }
    )
    return scores, report


def run_scoring(
    settings: Settings, as_of: datetime, rules_path: Path = RULES_PATH
) -> ScoringSummary:
    """Scores as of `as_of` (the logical date): the same date always gives the same rows.

    Scores, the model's figures and new outbox entries are written in one transaction,
    so an MQL is never enqueued without its score, nor scored without being enqueued;
    re-running a logical date replaces its run's rows.
    """
    rules = load_rules(rules_path)
    as_of = as_of.astimezone(UTC)
    run_id = f"score:{as_of.isoformat()}"
    warehouse = get_warehouse(settings)
    with warehouse.transaction() as session:
        ensure_scoring_tables(session)
    leads = warehouse.query(LEADS_SQL, [as_of])
    events = warehouse.query(EVENTS_SQL, [as_of])
    # this run's own outbox rows are not history when the logical date is re-run
    outbox = warehouse.query(OUTBOX_SQL, [run_id])
    verdicts = _verdicts(warehouse)
    scores, report = score_run(
        leads, events, outbox, verdicts, rules, as_of, run_id, settings.home / "models"
    )
    mqls = scores.loc[scores["is_new_cycle"]].assign(
        cycle=lambda f: f["mql_cycle"].astype(int), created_at=as_of
    )
    with warehouse.transaction() as session:
        ensure_scoring_tables(session)
        session.execute("delete from marts.fct_lead_scores where run_id = ?", [run_id])
        session.insert_frame("marts.fct_lead_scores", scores[SCORE_COLUMNS])
        _record_model(session, report, run_id, rules, as_of)
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
        model=report.line(),
    )
    log.info("scoring: %s", summary)
    return summary


def _verdicts(warehouse) -> pd.DataFrame:
    if not warehouse.table_exists("intermediate.int_lifecycle_stage_history"):
        return pd.DataFrame(columns=["lead_id", "stage", "entered_at"])
    stages = ", ".join(f"'{s}'" for s in VERDICT_STAGES)
    return warehouse.query(VERDICTS_SQL.format(stages=stages))


def _record_model(session, report: ModelReport, run_id: str, rules: Rules, as_of: datetime) -> None:
    session.execute("delete from ops.scoring_models where model_id = ?", [report.model_id])
    session.execute(
        "delete from ops.scoring_model_reliability where model_id = ?", [report.model_id]
    )
    row = {
        "model_id": report.model_id,
        "run_id": run_id,
        "rules_version": rules.version,
        "status": report.status,
        "detail": report.detail,
        "trained_at": as_of,
        "cutoff_at": report.cutoff_at,
        "train_leads": report.train_leads,
        "train_positives": report.train_positives,
        "holdout_leads": report.holdout_leads,
        "holdout_positives": report.holdout_positives,
        "holdout_auc": report.holdout_auc,
        "rules_auc": report.rules_auc,
        "brier_score": report.brier_score,
        "base_rate": report.base_rate,
        "artefact_path": report.artefact_path,
    }
    session.insert_frame("ops.scoring_models", pd.DataFrame([row]))
    if report.reliability:
        session.insert_frame(
            "ops.scoring_model_reliability",
            pd.DataFrame(report.reliability).assign(model_id=report.model_id),
        )
