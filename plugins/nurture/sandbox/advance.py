"""Move a served world forward: new activity for each day, record updates and deletes.

Deterministic like the build: day d of chunk c draws from a generator seeded with
(seed, 10_000 + d, c); updates and deletes are picked by hashing (seed, day, record id).
People are read and written back a chunk at a time, so memory stays flat.

HubSpot companies are edited and archived too (their contacts lose the association).
Each day also adds new people, converts Salesforce leads, moves opportunity stages and
merges Marketo duplicates (see ``lifecycle``), gives sales' verdicts on the leads Nurture
handed over (see ``verdicts``) and adds the day's CampaignMember rows.
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from nurture.sandbox import clock, leadhistory, lifecycle, renewals, verdicts
from nurture.sandbox import names as nm
from nurture.sandbox.activity import Chunk, Events, LeadState, simulate
from nurture.sandbox.campaigns import build_calendar
from nurture.sandbox.clock import DAY
from nurture.sandbox.world import (
    CHUNK,
    build_campaign_members,
    ensure_schema,
    finish_activities,
    read_meta,
)

# Daily shares (per mille) of records changed or deleted in each system.
MARKETO_UPDATES = 5
HUBSPOT_UPDATES = 10
HUBSPOT_ARCHIVES = 1
HUBSPOT_COMPANY_UPDATES = 10
HUBSPOT_COMPANY_ARCHIVES = 3
SALESFORCE_UPDATES = 5
SALESFORCE_DELETES = 1
_LOAD = """
select p.person_id, epoch(p.created_at)::bigint as created_ts, p.fit, p.engagement,
       p.bad_address, c.industry, p.unsubscribed_ts, p.invalid_ts, p.exposures,
       p.recent_sends, p.realized_engagement, p.last_touch_ts
from persons as p join companies as c using (company_id)
where p.person_id > ? and p.person_id <= ?
order by p.person_id
"""


def advance_world(con: duckdb.DuckDBPyConnection, days: int = 1) -> dict[str, Any]:
    meta = read_meta(con)
    seed, start_day = int(meta["seed"]), int(meta["days_advanced"])
    leads = int(meta["leads"])
    cal = build_calendar(seed)
    # The simulation's industry code is the index into names.INDUSTRIES, as in the build.
    industries = {name: i for i, name in enumerate(nm.INDUSTRIES)}
    ensure_schema(con)
    site = cal.by_channel("web_personalization")[0].campaign_id
    n_creatives = len(cal.creative_appeal)
    before = con.execute("select count(*) from activities").fetchone()[0]
    changes: dict[str, int] = {}

    def add(key: str, value: int) -> None:
        changes[key] = changes.get(key, 0) + int(value)

    for offset in range(days):
        day_no = start_day + offset
        lo = clock.today_ts(day_no)
        add("leads_created", lifecycle.add_people(con, seed, day_no, lo, leads, n_creatives, site))
        people = con.execute("select max(person_id) from persons").fetchone()[0] or leads
        for chunk_no, first in enumerate(range(0, max(people, leads), CHUNK)):
            rng = np.random.default_rng([seed, 10_000 + day_no, chunk_no])
            _advance_chunk(con, rng, cal, industries, first, first + CHUNK, lo, lo + DAY)
        next_id = 1 + lifecycle._scalar(
            con,
            """select greatest((select coalesce(max(id), 0) from activities),
                               (select coalesce(max(id), 0) from mkto_deleted_lead))""",
        )
        finish_activities(con, next_id)
        add("campaign_members_added", build_campaign_members(con, next_id - 1))
        add("salesforce_leads_converted", lifecycle.convert_leads(con, seed, day_no, lo))
        for key, value in lifecycle.move_opportunities(con, seed, day_no, lo).items():
            add(key, value)
        add("marketo_leads_merged", lifecycle.merge_leads(con, seed, day_no, lo))
        for key, value in renewals.advance_day(con, seed, day_no, lo).items():
            add(key, value)
        for key, value in verdicts.sales_verdicts(con, seed, day_no, lo).items():
            add(key, value)
        for key, value in _updates(con, seed, day_no, lo).items():
            add(key, value)
        con.execute("update meta set value = ? where key = 'days_advanced'", [str(day_no + 1)])
    after = con.execute("select count(*) from activities").fetchone()[0]
    return {
        "today": clock.today(start_day + days).isoformat(),
        "days": days,
        "activities_added": int(after - before),
        **changes,
    }


def _advance_chunk(
    con: duckdb.DuckDBPyConnection,
    rng: np.random.Generator,
    cal: Any,
    industries: dict[str, int],
    first: int,
    last: int,
    lo: int,
    hi: int,
) -> None:
    cols = con.execute(_LOAD, [first, last]).fetchnumpy()
    n = len(cols["person_id"])
    if n == 0:
        return
    state = LeadState(
        unsubscribed_ts=cols["unsubscribed_ts"].astype(np.int64),
        invalid_ts=cols["invalid_ts"].astype(np.int64),
        exposures=np.stack(list(cols["exposures"])).astype(np.int16),
        recent_sends=cols["recent_sends"].astype(float),
        realized=cols["realized_engagement"].astype(float),
        last_touch_ts=cols["last_touch_ts"].astype(np.int64),
    )
    unsub_before = state.unsubscribed_ts.copy()
    invalid_before = state.invalid_ts.copy()
    people = Chunk(
        lead_id=cols["person_id"].astype(np.int64),
        created_ts=cols["created_ts"].astype(np.int64),
        fit=cols["fit"].astype(float),
        engagement=cols["engagement"].astype(float),
        bad_address=cols["bad_address"].astype(bool),
        industry=np.array([industries[i] for i in cols["industry"]]),
    )
    events = Events()
    simulate(rng, cal, people, state, lo, hi, events)
    staged = events.arrays()
    staged["seq"] = np.arange(len(staged["lead"]), dtype=np.int32)
    if len(staged["lead"]):
        con.register("_day", pa.table(staged))
        con.execute("insert into _stage by name select * from _day")
        con.unregister("_day")
    flat = state.exposures.reshape(-1)
    update = pa.table(
        {
            "person_id": people.lead_id,
            "unsubscribed_ts": state.unsubscribed_ts,
            "invalid_ts": state.invalid_ts,
            "recent_sends": state.recent_sends,
            "realized_engagement": state.realized,
            "last_touch_ts": state.last_touch_ts,
            "exposures": pa.FixedSizeListArray.from_arrays(
                pa.array(flat), state.exposures.shape[1]
            ),
        }
    )
    con.register("_upd", update)
    con.execute("""
        update persons set unsubscribed_ts = u.unsubscribed_ts, invalid_ts = u.invalid_ts,
            recent_sends = u.recent_sends, realized_engagement = u.realized_engagement,
            last_touch_ts = u.last_touch_ts, exposures = u.exposures
        from _upd as u where persons.person_id = u.person_id""")
    con.unregister("_upd")
    # Unsubscribes and hard bounces change the Marketo lead record.
    changed = (state.unsubscribed_ts != unsub_before) | (state.invalid_ts != invalid_before)
    if changed.any():
        flags = pa.table(
            {
                "id": people.lead_id[changed],
                "unsub": state.unsubscribed_ts[changed] > 0,
                "invalid": state.invalid_ts[changed] > 0,
                "ts": np.maximum(state.unsubscribed_ts[changed], state.invalid_ts[changed]),
            }
        )
        con.register("_flags", flags)
        con.execute("""
            update mkto_lead set unsubscribed = f.unsub, "emailInvalid" = f.invalid,
                "updatedAt" = to_timestamp(f.ts)::timestamp
            from _flags as f where mkto_lead.id = f.id""")
        con.unregister("_flags")


def _updates(con: duckdb.DuckDBPyConnection, seed: int, day_no: int, lo: int) -> dict[str, int]:
    """Field edits, archives and deletes of the day, chosen by a hash of the record id."""

    def pick(key: str, per_mille: int, salt: str) -> str:
        return f"hash({key}, {seed}, {day_no}, '{salt}') % 1000 < {per_mille}"

    def stamp(key: str, salt: str) -> str:
        return f"to_timestamp({lo} + hash({key}, {seed}, {day_no}, '{salt}-t') % {DAY})::timestamp"

    counts = {}
    counts["marketo_leads_updated"] = _run(
        con,
        f"""
        update mkto_lead set "updatedAt" = greatest("updatedAt", {stamp("id", "mk")}),
            title = case when title like '%Staff' then replace(title, 'Staff', 'Manager')
                         else title end
        where {pick("id", MARKETO_UPDATES, "mk")}""",
    )
    counts["hubspot_contacts_updated"] = _run(
        con,
        f"""
        update hs_contact set lastmodifieddate = greatest(lastmodifieddate, {stamp("id", "hs")}),
            hs_lead_status = case hs_lead_status when 'NEW' then 'OPEN'
                                  when 'OPEN' then 'IN_PROGRESS' else hs_lead_status end
        where not archived and {pick("id", HUBSPOT_UPDATES, "hs")}""",
    )
    counts["hubspot_contacts_archived"] = _run(
        con,
        f"""
        update hs_contact set archived = true,
            lastmodifieddate = greatest(lastmodifieddate, {stamp("id", "hsa")})
        where not archived and {pick("id", HUBSPOT_ARCHIVES, "hsa")}""",
    )
    counts["hubspot_companies_updated"] = _run(
        con,
        f"""
        update hs_company set
            hs_lastmodifieddate = greatest(hs_lastmodifieddate, {stamp("id", "hsc")}),
            numberofemployees = numberofemployees + greatest(1, numberofemployees // 50)
        where not archived and {pick("id", HUBSPOT_COMPANY_UPDATES, "hsc")}""",
    )
    counts["hubspot_companies_archived"] = _run(
        con,
        f"""
        update hs_company set archived = true,
            hs_lastmodifieddate = greatest(hs_lastmodifieddate, {stamp("id", "hsca")})
        where not archived and {pick("id", HUBSPOT_COMPANY_ARCHIVES, "hsca")}""",
    )
    counts["hubspot_contacts_unassociated"] = _unassociate(con, lo)
    # Leads Nurture handed over change status only by a sales verdict (``verdicts``).
    touched = f"""not "IsDeleted" and not "IsConverted" and "Nurture_Lead_Id__c" is null
            and {pick('"Id"', SALESFORCE_UPDATES, "sf")}
            and not exists (select 1 from sf_task as t where t."WhoId" = sf_lead."Id"
                            and t."Subject" like '{verdicts.HANDOFF_SUBJECT}%')"""
    leadhistory.record(
        con,
        f"""select "Id" as lead_id, 'Status' as field, "Status" as old_value,
            'Working - Contacted' as new_value,
            greatest("SystemModstamp", {stamp('"Id"', "sf")}) as changed_at
        from sf_lead where {touched} and "Status" = 'Open - Not Contacted'""",
    )
    counts["salesforce_leads_updated"] = _run(
        con,
        f"""
        update sf_lead set "SystemModstamp" = greatest("SystemModstamp", {stamp('"Id"', "sf")}),
            "Status" = case "Status" when 'Open - Not Contacted' then 'Working - Contacted'
                                     else "Status" end
        where {touched}""",
    )
    counts["salesforce_leads_deleted"] = _run(
        con,
        f"""
        update sf_lead set "IsDeleted" = true,
            "SystemModstamp" = greatest("SystemModstamp", {stamp('"Id"', "sfd")})
        where not "IsDeleted" and not "IsConverted"
            and {pick('"Id"', SALESFORCE_DELETES, "sfd")}""",
    )
    return counts


def _unassociate(con: duckdb.DuckDBPyConnection, lo: int) -> int:
    """Contacts of the companies archived during the day lose those associations; their
    primary company changes, so their last-modified date moves (as HubSpot's does)."""
    return _run(
        con,
        f"""
        update hs_contact set lastmodifieddate = greatest(lastmodifieddate, gone.at)
        from (
            select l.contact_id, max(c.hs_lastmodifieddate) as at
            from hs_contact_company as l join hs_company as c on c.id = l.company_id
            where c.archived and c.hs_lastmodifieddate >= to_timestamp({lo})::timestamp
            group by l.contact_id
        ) as gone
        where hs_contact.id = gone.contact_id and not hs_contact.archived""",
    )


def _run(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row else 0
