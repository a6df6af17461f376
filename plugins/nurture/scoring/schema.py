"""Columns and tables the scoring task adds to those `nurture.handoff.schema` creates.

Additive only (`add column if not exists`), so warehouses made before these columns
existed gain them on the next run and older rows read as null.
"""

from __future__ import annotations

from nurture.handoff.schema import ensure_tables
from nurture.warehouse import Session

SCORE_COLUMNS_DDL = (
    "meets_mql_rule boolean",
    "mql_cycle integer",
    "predicted_conversion_probability double precision",
    "model_id varchar",
)
DDL = (
    """create table if not exists ops.scoring_models (
        model_id varchar not null primary key,
        run_id varchar not null,
        rules_version varchar not null,
        status varchar not null,
        detail varchar,
        trained_at timestamp with time zone not null,
        cutoff_at timestamp with time zone,
        train_leads integer not null,
        train_positives integer not null,
        holdout_leads integer not null,
        holdout_positives integer not null,
        holdout_auc double precision,
        rules_auc double precision,
        brier_score double precision,
        base_rate double precision,
        artefact_path varchar
    )""",
    """create table if not exists ops.scoring_model_reliability (
        model_id varchar not null,
        decile integer not null,
        leads integer not null,
        mean_predicted double precision not null,
        observed_rate double precision not null,
        primary key (model_id, decile)
    )""",
)


def ensure_scoring_tables(session: Session) -> None:
    ensure_tables(session)
    for column in SCORE_COLUMNS_DDL:
        session.execute(f"alter table marts.fct_lead_scores add column if not exists {column}")
    for statement in DDL:
        session.execute(statement)
