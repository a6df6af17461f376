"""Sales' verdicts on the leads Nurture hands over.

A lead Nurture upserts into Salesforce carries ``Nurture_Lead_Id__c`` and waits in
``Open - Not Contacted``. On each advanced day a share of the waiting leads gets its
verdict from the lead owner: accepted (``Working - Contacted``, a sales-accepted lead),
rejected (``Closed - Not Converted``) or recycled back to nurturing (``Recycled``). The
owner logs the call as a completed Task, which is sales' first action for the SLA, and
the person's HubSpot contact follows as it does in the built world's history.

Acceptance rises with the person's latent propensity, so good scores pay off; an
accepted lead then converts on later days like any other open Salesforce lead. The
choice is a hash of (seed, day, lead id): the same for the same (seed, days).
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from nurture.sandbox.clock import DAY
from nurture.sandbox.sfids import sf_ids, sf_seq

VERDICTS_PER_MILLE = 400  # waiting leads that get their verdict on a day (mean wait 2.5 d)
ACCEPT_BASE = 0.2  # acceptance chance is ACCEPT_BASE + ACCEPT_SLOPE x propensity
ACCEPT_SLOPE = 0.6
RECYCLE_SHARE = 0.6  # of the leads not accepted, the share sent back to nurturing
UNKNOWN_PROPENSITY = 0.3  # a handed-over lead whose e-mail matches no person
WAITING = "Open - Not Contacted"

# verdict -> (Lead Status, Task Subject, HubSpot lifecycle stage, HubSpot lead status)
OUTCOMES = {
    "accepted": ("Working - Contacted", "Call: accepted lead", "salesqualifiedlead", "IN_PROGRESS"),
    "rejected": ("Closed - Not Converted", "Call: disqualified", "lead", "UNQUALIFIED"),
    "recycled": ("Recycled", "Call: back to nurturing", "lead", "BAD_TIMING"),
}


def sales_verdicts(con: duckdb.DuckDBPyConnection, seed: int, day_no: int, lo: int) -> dict:
    """Give the day's verdicts; returns counts ``sales_accepted/rejected/recycled``."""
    pick = f"hash(l.\"Id\", {seed}, {day_no}, 'verdict')"
    draw = f"(hash(l.\"Id\", {seed}, {day_no}, 'verdict-kind') % 1000000) / 1000000.0"
    accept = f"{ACCEPT_BASE} + {ACCEPT_SLOPE} * coalesce(p.propensity, {UNKNOWN_PROPENSITY})"
    con.execute(f"""
        create or replace temp table _verdicts as
        with waiting as (
            select l."Id", l."OwnerId",
                coalesce(l.person_id, (select min(q.person_id) from persons as q
                                       where q.email = lower(trim(l."Email")))) as person_id
            from sf_lead as l
            where l."Nurture_Lead_Id__c" is not null and not l."IsDeleted"
                and not l."IsConverted" and coalesce(l."Status", '{WAITING}') = '{WAITING}'
                and l."SystemModstamp" < to_timestamp({lo})::timestamp
                and {pick} % 1000 < {VERDICTS_PER_MILLE}
        )
        select l."Id", l."OwnerId", l.person_id,
            to_timestamp({lo} + 3600 + {pick} % ({DAY} - 7200))::timestamp as ts,
            case when {draw} < {accept} then 'accepted'
                 when {draw} < {accept} + (1 - ({accept})) * {RECYCLE_SHARE} then 'recycled'
                 else 'rejected' end as verdict
        from waiting as l left join persons as p using (person_id)
        order by l."Id" """)
    counts = dict(con.execute("select verdict, count(*) from _verdicts group by 1").fetchall())
    if counts:
        _apply(con)
    con.execute("drop table _verdicts")
    return {f"sales_{v}": int(counts.get(v, 0)) for v in OUTCOMES}


def _apply(con: duckdb.DuckDBPyConnection) -> None:
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
