"""Sales' verdicts on the leads Nurture hands over.

A lead Nurture upserts into Salesforce carries ``Nurture_Lead_Id__c`` (and a "Nurture
MQL" Task, as the built world's earlier hand-offs do) and waits in ``Open - Not
Contacted``. Its owner answers after a response time of their own: a
lognormal number of hours from the hand-off (median RESPONSE_MEDIAN_HOURS, spread
RESPONSE_SIGMA; some answers come after the 48-hour MQL -> SAL SLA) or, for a share
NEVER_SHARE of the leads, never. The answer is a verdict: accepted (``Working -
Contacted``, a sales-accepted lead), rejected (``Closed - Not Converted``) or recycled
back to nurturing (``Recycled``). The owner logs the call as a completed Task, which is
sales' first action for the SLA, the status change is written to ``LeadHistory``, and
the person's HubSpot contact follows as it does in the built world's history.

Acceptance rises with the person's latent propensity, so good scores pay off; an
accepted lead then converts on later days like any other open Salesforce lead. The
response time and the verdict are hashes of (seed, lead id): the same for the same
(seed, days).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from nurture.sandbox import leadhistory
from nurture.sandbox.clock import DAY
from nurture.sandbox.sfids import sf_ids, sf_seq

RESPONSE_MEDIAN_HOURS = 18.0  # sales' response time: lognormal hours after the hand-off
RESPONSE_SIGMA = 1.1  # about a quarter of the answers come after 48 hours
NEVER_SHARE = 0.1  # handed-over leads sales never act on
ACCEPT_BASE = 0.2  # acceptance chance is ACCEPT_BASE + ACCEPT_SLOPE x propensity
ACCEPT_SLOPE = 0.6
RECYCLE_SHARE = 0.6  # of the leads not accepted, the share sent back to nurturing
UNKNOWN_PROPENSITY = 0.3  # a handed-over lead whose e-mail matches no person
WAITING = "Open - Not Contacted"
HANDOFF_SUBJECT = "Nurture MQL:"  # the hand-off's Task on the lead

# verdict -> (Lead Status, Task Subject, HubSpot lifecycle stage, HubSpot lead status)
OUTCOMES = {
    "accepted": ("Working - Contacted", "Call: accepted lead", "salesqualifiedlead", "IN_PROGRESS"),
    "rejected": ("Closed - Not Converted", "Call: disqualified", "lead", "UNQUALIFIED"),
    "recycled": ("Recycled", "Call: back to nurturing", "lead", "BAD_TIMING"),
}


def response_hours(rng: np.random.Generator, n: int) -> np.ndarray:
    """Sales' response times in hours to n hand-offs (NaN: never), as in the advance."""
    hours = RESPONSE_MEDIAN_HOURS * np.exp(RESPONSE_SIGMA * rng.standard_normal(n))
    return np.where(rng.random(n) < NEVER_SHARE, np.nan, hours)


def _uniform(salt: str, seed: int) -> str:
    """A uniform draw in (0, 1) from a hash of (lead id, seed, hand-off day, salt)."""
    day = "cast(l.handed_at as date)"
    return f"((hash(l.\"Id\", {seed}, {day}, '{salt}') % 1000000) + 0.5) / 1000000.0"


def response_hours_sql(seed: int) -> str:
    """SQL for sales' response time in hours to the handed-over lead ``l`` (null: never),
    a lognormal draw (Box-Muller on two hashes of the lead, the seed and the hand-off)."""
    radius = f"sqrt(-2 * ln({_uniform('response-a', seed)}))"
    normal = f"{radius} * cos(2 * pi() * {_uniform('response-b', seed)})"
    return (
        f"case when {_uniform('response-never', seed)} >= {NEVER_SHARE} "
        f"then {RESPONSE_MEDIAN_HOURS} * exp({RESPONSE_SIGMA} * {normal}) end"
    )


def sales_verdicts(con: duckdb.DuckDBPyConnection, seed: int, day_no: int, lo: int) -> dict:
    """Give the verdicts due during the day; returns counts ``sales_accepted/rejected/
    recycled``. A verdict is due when the hand-off plus the owner's response time falls
    before the day's end; it is stamped then (never before the day's start)."""
    kind = f"hash(l.\"Id\", {seed}, cast(l.handed_at as date), 'verdict-kind')"
    draw = f"({kind} % 1000000) / 1000000.0"
    accept = f"{ACCEPT_BASE} + {ACCEPT_SLOPE} * coalesce(p.propensity, {UNKNOWN_PROPENSITY})"
    con.execute(f"""
        create or replace temp table _verdicts as
        with waiting as (
            select l."Id", l."OwnerId",
                coalesce(l.person_id, (select min(q.person_id) from persons as q
                                       where q.email = lower(trim(l."Email")))) as person_id,
                -- handed over (last): Nurture_Lead_Id__c set or the status put back to
                -- waiting by a new hand-off, else the hand-off's Task or the creation
                coalesce(
                    (select max(h."CreatedDate") from sf_lead_history as h
                     where h."LeadId" = l."Id" and (h."Field" = 'Nurture_Lead_Id__c'
                        or (h."Field" = 'Status' and h."NewValue" = '{WAITING}'))),
                    (select min(t."CreatedDate") from sf_task as t
                     where t."WhoId" = l."Id" and t."Subject" like '{HANDOFF_SUBJECT}%'),
                    l."CreatedDate"
                ) as handed_at
            from sf_lead as l
            where not l."IsDeleted" and not l."IsConverted"
                and coalesce(l."Status", '{WAITING}') = '{WAITING}'
                and (l."Nurture_Lead_Id__c" is not null or exists (
                    select 1 from sf_task as t
                    where t."WhoId" = l."Id" and t."Subject" like '{HANDOFF_SUBJECT}%'))
        ),
        timed as (
            select l.*, {response_hours_sql(seed)} as response_hours from waiting as l
        ),
        due as (
            select *, handed_at + to_seconds(cast(response_hours * 3600 as bigint)) as due_at
            from timed
            where response_hours is not null
        )
        select l."Id", l."OwnerId", l.person_id,
            greatest(l.due_at, to_timestamp({lo} + 60)::timestamp) as ts,
            case when {draw} < {accept} then 'accepted'
                 when {draw} < {accept} + (1 - ({accept})) * {RECYCLE_SHARE} then 'recycled'
                 else 'rejected' end as verdict
        from due as l left join persons as p using (person_id)
        where l.due_at < to_timestamp({lo + DAY})::timestamp
        order by l."Id" """)
    counts = dict(con.execute("select verdict, count(*) from _verdicts group by 1").fetchall())
    if counts:
        _apply(con)
    con.execute("drop table _verdicts")
    return {f"sales_{v}": int(counts.get(v, 0)) for v in OUTCOMES}


def _apply(con: duckdb.DuckDBPyConnection) -> None:
    leadhistory.record(
        con,
        f"""select v."Id" as lead_id, 'Status' as field, l."Status" as old_value,
            {_case(0)} as new_value, v.ts as changed_at
        from _verdicts as v join sf_lead as l using ("Id")""",
    )
    con.execute(f"""
        update sf_lead set "Status" = {_case(0)},
            person_id = coalesce(sf_lead.person_id, v.person_id),
            "SystemModstamp" = greatest("SystemModstamp", v.ts)
        from _verdicts as v where sf_lead."Id" = v."Id" """)
    last = con.execute('select max("Id") from sf_task').fetchall()[0][0]
    first = (sf_seq(last) if last else 0) + 1
    n = con.execute("select count(*) from _verdicts").fetchall()[0][0]
    con.register("_task_ids", _ids_table(sf_ids("Task", range(first, first + n))))
    con.execute(f"""
        insert into sf_task by name
        select t.task_id as "Id", v."Id" as "WhoId", {_case(1)} as "Subject",
            'Sales verdict on a Nurture MQL: ' || v.verdict as "Description",
            'Completed' as "Status", 'Normal' as "Priority", cast(v.ts as date) as "ActivityDate",
            v."OwnerId", v.ts as "CreatedDate", v.ts as "SystemModstamp", false as "IsDeleted"
        from (select *, row_number() over (order by "Id") as k from _verdicts) as v
        join _task_ids as t using (k)""")
    con.unregister("_task_ids")
    con.execute(f"""
        update hs_contact set lifecyclestage = {_case(2)},
            hs_lead_status = {_case(3)},
            lastmodifieddate = greatest(lastmodifieddate, v.ts)
        from _verdicts as v
        where hs_contact.person_id = v.person_id and not hs_contact.archived
            and hs_contact.lifecyclestage not in ('opportunity', 'customer')""")


def _case(field: int) -> str:
    """A SQL case mapping ``v.verdict`` to one field of its outcome (constants only)."""
    whens = " ".join(f"when '{v}' then '{o[field]}'" for v, o in OUTCOMES.items())
    return f"case v.verdict {whens} end"


def _ids_table(ids: list[str]) -> pa.Table:
    return pa.table({"k": pa.array(range(1, len(ids) + 1), pa.int64()), "task_id": ids})
