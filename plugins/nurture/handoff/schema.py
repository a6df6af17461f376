"""Tables the scoring and handoff tasks own (dbt reads them as sources).

`ops.mql_outbox` holds one row per MQL decision, keyed (lead, cycle); the handoff records
what happened to each entry per target in `ops.mql_deliveries`, keyed (lead, cycle,
target). `ops.mql_assignments` pins the owner chosen for an entry, so a re-run never
moves a lead to another rep; `ops.slack_notices` is the Slack target's send log.
"""

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
    # status: pending (an attempt is under way or was cut short), sending (Slack: the
    # notice may have gone out), delivered, unconfirmed (Slack: may have gone out, never
    # re-sent), failed (the target refused the record; retried), rejected (refused on
    # every attempt; given up). delivered_at is the hand-off time the MQL -> SAL SLA uses.
    """create table if not exists ops.mql_deliveries (
        lead_id varchar not null,
        cycle integer not null,
        target varchar not null,
        status varchar not null,
        detail varchar,
        delivered_at timestamp with time zone,
        attempts integer,
        external_id varchar,
        task_id varchar,
        idempotency_key varchar,
        first_attempt_at timestamp with time zone,
        last_attempt_at timestamp with time zone,
        primary key (lead_id, cycle, target)
    )""",
    """create table if not exists ops.mql_assignments (
        lead_id varchar not null,
        cycle integer not null,
        owner_id varchar,
        owner_email varchar,
        owner_name varchar,
        rule varchar not null,
        assigned_at timestamp with time zone not null,
        primary key (lead_id, cycle)
    )""",
    """create table if not exists ops.slack_notices (
        notice_id varchar not null,
        notice_date date not null,
        owner_id varchar not null,
        status varchar not null,
        lead_count integer not null,
        created_at timestamp with time zone not null,
        sent_at timestamp with time zone,
        primary key (notice_id)
    )""",
)
# Columns added to ops.mql_deliveries after its first release (older warehouses have
# the table without them, and with delivered_at not null).
DELIVERY_COLUMNS = {
    "attempts": "integer",
    "external_id": "varchar",
    "task_id": "varchar",
    "idempotency_key": "varchar",
    "first_attempt_at": "timestamp with time zone",
    "last_attempt_at": "timestamp with time zone",
}


def ensure_tables(session: Session) -> None:
    for statement in DDL:
        session.execute(statement)
    _migrate_deliveries(session)


def _migrate_deliveries(session: Session) -> None:
    have = session.scalar(
        "select count(*) from information_schema.columns "
        "where table_schema = 'ops' and table_name = 'mql_deliveries' "
        "and column_name = 'idempotency_key'"
    )
    if have:
        return
    for name, kind in DELIVERY_COLUMNS.items():
        session.execute(f"alter table ops.mql_deliveries add column if not exists {name} {kind}")
    session.execute("alter table ops.mql_deliveries alter column delivered_at drop not null")
