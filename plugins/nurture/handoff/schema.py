"""Tables the scoring and handoff tasks own (dbt reads them as sources)."""

from __future__ import annotations

from nurture.warehouse import Session

DDL = (
    "create schema if not exists marts",
    "create schema if not exists ops",
    """create table if not exists marts.fct_lead_scores (
        lead_id varchar not null,
        run_id varchar not null,
        rules_version varchar not null,
        scored_at timestamp with time zone not null,
        fit_score double precision not null,
        engagement_score double precision not null,
        score double precision not null,
        grade varchar not null,
        is_mql boolean not null,
        top_reasons varchar not null,
        primary key (lead_id, run_id)
    )""",
    """create table if not exists ops.mql_outbox (
        lead_id varchar not null,
        cycle integer not null,
        run_id varchar not null,
        email varchar,
        score double precision not null,
        grade varchar not null,
        top_reasons varchar not null,
        created_at timestamp with time zone not null,
        primary key (lead_id, cycle)
    )""",
    """create table if not exists ops.mql_deliveries (
        lead_id varchar not null,
        cycle integer not null,
        target varchar not null,
        status varchar not null,
        detail varchar,
        delivered_at timestamp with time zone not null,
        primary key (lead_id, cycle, target)
    )""",
)


def ensure_tables(session: Session) -> None:
    for statement in DDL:
        session.execute(statement)
