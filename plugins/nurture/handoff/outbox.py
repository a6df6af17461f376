"""The outbox as the handoff reads it, and the per-target delivery log it writes.

An entry is pending for a target until its `ops.mql_deliveries` row reaches a terminal
status (delivered, unconfirmed, rejected). Every write to the log is a merge by
(lead, cycle, target): re-runs update rows, never append.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from nurture.handoff.schema import ensure_tables
from nurture.warehouse import Session, Warehouse

TERMINAL = ("delivered", "unconfirmed", "rejected")
MAX_RECORD_ATTEMPTS = 3  # a record the target refused this often is given up (rejected)

PENDING_SQL = f"""
select o.lead_id, o.cycle, o.run_id, coalesce(o.email, l.email) as email, o.score, o.grade,
       o.top_reasons, o.created_at,
       l.first_name, l.last_name, l.company_name, l.job_title, l.industry, l.size_band,
       l.sfdc_lead_id, l.hubspot_contact_id, l.sfdc_owner_id, l.is_converted,
       a.owner_id, a.owner_email, a.owner_name, a.rule as owner_rule,
       d.status, d.attempts, d.external_id, d.task_id
from ops.mql_outbox as o
left join marts.dim_lead as l on l.lead_id = o.lead_id
left join ops.mql_assignments as a on a.lead_id = o.lead_id and a.cycle = o.cycle
left join ops.mql_deliveries as d
    on d.lead_id = o.lead_id and d.cycle = o.cycle and d.target = ?
where coalesce(d.status, 'pending') not in ({", ".join(f"'{s}'" for s in TERMINAL)})
   or d.external_id = ?
order by o.created_at, o.lead_id, o.cycle
"""


def _clean(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime()
    if value.__class__.__name__ in ("NaTType", "NAType"):
        return None
    return value


@dataclass(frozen=True)
class Entry:
    """One outbox entry with the person's identity and owner, as a target needs it."""

    lead_id: str
    cycle: int
    run_id: str
    email: str | None
    score: float
    grade: str
    top_reasons: str
    created_at: datetime
    first_name: str | None = None
    last_name: str | None = None
    company_name: str | None = None
    job_title: str | None = None
    industry: str | None = None
    size_band: str | None = None
    sfdc_lead_id: str | None = None
    hubspot_contact_id: str | None = None
    sfdc_owner_id: str | None = None
    is_converted: bool | None = None
    owner_id: str | None = None
    owner_email: str | None = None
    owner_name: str | None = None
    owner_rule: str | None = None
    status: str | None = None
    attempts: int | None = None
    external_id: str | None = None
    task_id: str | None = None

    @property
    def key(self) -> str:
        """The entry's idempotency key, the same on every run: `nurture-mql:<lead>:<cycle>`."""
        return f"nurture-mql:{self.lead_id}:{self.cycle}"

    @property
    def reasons(self) -> list[str]:
        return [r.strip() for r in self.top_reasons.split(";") if r.strip()]

    @property
    def display_name(self) -> str:
        name = " ".join(p for p in (self.last_name, self.first_name) if p)
        return name or self.email or self.lead_id


def pending_entries(warehouse: Warehouse, target: str) -> list[Entry]:
    """Outbox entries not yet (terminally) delivered to `target`, oldest first."""
    return entries_for(warehouse, target)


def entries_for(
    warehouse: Warehouse, target: str, also_external_id: str | None = None
) -> list[Entry]:
    """Pending entries for `target`, plus those whose delivery carries `also_external_id`."""
    with warehouse.transaction() as session:
        ensure_tables(session)
    frame = warehouse.query(PENDING_SQL, [target, also_external_id])
    rows = frame.astype(object).to_dict("records")
    entries = []
    for row in rows:
        values = {f.name: _clean(row.get(f.name)) for f in fields(Entry)}
        values["cycle"] = int(values["cycle"])
        values["attempts"] = int(values["attempts"]) if values["attempts"] is not None else None
        for name in ("lead_id", "sfdc_lead_id", "hubspot_contact_id", "sfdc_owner_id"):
            if values[name] is not None:
                values[name] = str(values[name])
        entries.append(Entry(**values))
    return entries


@dataclass
class Delivery:
    """A change to one row of `ops.mql_deliveries`; None keeps the stored value."""

    lead_id: str
    cycle: int
    status: str
    detail: str | None = None
    external_id: str | None = None
    task_id: str | None = None
    delivered_at: datetime | None = None
    idempotency_key: str | None = None
    attempt: bool = False  # True when this change starts an attempt (counts it)
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


STAGE_DDL = """create temporary table _delivery_stage (
    lead_id varchar, cycle integer, target varchar, status varchar, detail varchar,
    external_id varchar, task_id varchar, delivered_at timestamp with time zone,
    idempotency_key varchar, attempts_add integer, changed_at timestamp with time zone
)"""
MERGE_UPDATE = """
update ops.mql_deliveries as d set
    status = s.status,
    detail = coalesce(s.detail, d.detail),
    external_id = coalesce(s.external_id, d.external_id),
    task_id = coalesce(s.task_id, d.task_id),
    delivered_at = coalesce(s.delivered_at, d.delivered_at),
    idempotency_key = coalesce(s.idempotency_key, d.idempotency_key),
    attempts = coalesce(d.attempts, 0) + s.attempts_add,
    first_attempt_at = coalesce(d.first_attempt_at, s.changed_at),
    last_attempt_at = case when s.attempts_add > 0 then s.changed_at else d.last_attempt_at end
from _delivery_stage as s
where d.lead_id = s.lead_id and d.cycle = s.cycle and d.target = s.target
"""
MERGE_INSERT = """
insert into ops.mql_deliveries (lead_id, cycle, target, status, detail, external_id, task_id,
    delivered_at, idempotency_key, attempts, first_attempt_at, last_attempt_at)
select s.lead_id, s.cycle, s.target, s.status, s.detail, s.external_id, s.task_id,
    s.delivered_at, s.idempotency_key, s.attempts_add, s.changed_at, s.changed_at
from _delivery_stage as s
where not exists (select 1 from ops.mql_deliveries as d
    where d.lead_id = s.lead_id and d.cycle = s.cycle and d.target = s.target)
"""


def record(warehouse: Warehouse, target: str, changes: Sequence[Delivery]) -> None:
    """Merge `changes` into `ops.mql_deliveries` in one transaction."""
    if not changes:
        return
    with warehouse.transaction() as session:
        ensure_tables(session)
        record_in(session, target, changes)


def record_in(session: Session, target: str, changes: Sequence[Delivery]) -> None:
    """Merge `changes` into `ops.mql_deliveries` inside the caller's transaction."""
    if not changes:
        return
    import pandas as pd

    frame = pd.DataFrame(
        {
            "lead_id": [c.lead_id for c in changes],
            "cycle": [c.cycle for c in changes],
            "target": target,
            "status": [c.status for c in changes],
            "detail": [c.detail for c in changes],
            "external_id": [c.external_id for c in changes],
            "task_id": [c.task_id for c in changes],
            "delivered_at": pd.Series([c.delivered_at for c in changes], dtype="object"),
            "idempotency_key": [c.idempotency_key for c in changes],
            "attempts_add": [1 if c.attempt else 0 for c in changes],
            "changed_at": [c.at for c in changes],
        }
    )
    frame["delivered_at"] = pd.to_datetime(frame["delivered_at"], utc=True)
    session.execute(STAGE_DDL)
    session.insert_frame("_delivery_stage", frame)
    session.execute(MERGE_UPDATE)
    session.execute(MERGE_INSERT)
    session.execute("drop table _delivery_stage")


def start_attempt(warehouse: Warehouse, target: str, entries: Iterable[Entry]) -> None:
    """Write `pending` with the entry's idempotency key before any call goes out."""
    record(
        warehouse,
        target,
        [
            Delivery(e.lead_id, e.cycle, "pending", idempotency_key=e.key, attempt=True)
            for e in entries
        ],
    )


def refused(entry: Entry, detail: str) -> Delivery:
    """A record-level refusal: `failed` (retried next run), `rejected` once out of attempts."""
    attempts = (entry.attempts or 0) + 1
    status = "rejected" if attempts >= MAX_RECORD_ATTEMPTS else "failed"
    return Delivery(entry.lead_id, entry.cycle, status, detail=detail[:1000])
