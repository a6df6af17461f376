"""What happens to people and deals on an advanced day, beyond their activities.

New people arrive (Marketo; some also in HubSpot, with their companies, and as Salesforce
Leads), Salesforce Leads convert (Contact, Account, Opportunity), open opportunities move
a stage or close Won or Lost, and Marketo merges duplicate leads (the loser is reported by
``deletedleads.json``). Every choice is driven by the people's latent propensity and
drawn from a generator seeded with (seed, step, day) or a hash of (seed, day, record id),
so an advance is the same for the same (seed, days).
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from nurture.sandbox import leadhistory, renewals, systems
from nurture.sandbox import names as nm
from nurture.sandbox.activity import FORM, FORMS, Events, LeadState
from nurture.sandbox.clock import DAY, to_datetime
from nurture.sandbox.people import (
    LEADS_PER_COMPANY,
    Companies,
    People,
    make_companies,
    make_people,
)
from nurture.sandbox.sfids import sf_ids, sf_seq

NEW_PEOPLE_PER_MILLE = 2  # new people a day, per thousand people of the world
NEW_IN_HUBSPOT = 0.6
NEW_IN_SALESFORCE = 0.35
CONVERT_RATE = 0.1  # daily conversion hazard of an open Salesforce lead, times propensity
STAGE_MOVE_PER_MILLE = 100  # open opportunities that move (or close) on a day
MERGE_PER_MILLE = 100  # Marketo duplicates merged into their primary lead on a day
MERGE_ACTIVITY_TYPE = 37  # "Delete Lead", as deletedleads.json reports it


def _register(con: duckdb.DuckDBPyConnection, name: str, cols: dict[str, Any]) -> None:
    con.register(
        name, pa.table({k: v if isinstance(v, pa.Array) else pa.array(v) for k, v in cols.items()})
    )


def _insert(con: duckdb.DuckDBPyConnection, table: str, cols: dict[str, Any]) -> None:
    if not len(next(iter(cols.values()))):
        return
    _register(con, "_rows", cols)
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _rows")
    con.unregister("_rows")


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(con.execute(sql).fetchall()[0][0] or 0)


def _ts(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=np.int64).astype("datetime64[s]")


def _seq_max(table: str) -> str:
    # renewals' sequence numbers (renewals.RENEWAL_SEQ_BASE on) are not person numbers
    return (
        f'(select coalesce(max(cast(substr("Id", 6, 10) as bigint)), 0) from {table} '
        f'where cast(substr("Id", 6, 10) as bigint) < {renewals.RENEWAL_SEQ_BASE})'
    )


def next_person_id(con: duckdb.DuckDBPyConnection) -> int:
    """A person id free in every system (it is also the Marketo lead id, HubSpot id - 1000
    and the sequence of the Salesforce Lead, Contact and Opportunity ids)."""
    return 1 + _scalar(
        con,
        f"""select greatest(
            (select coalesce(max(person_id), 0) from persons),
            (select coalesce(max(id), 0) from mkto_lead),
            (select coalesce(max(lead_id), 0) from mkto_deleted_lead),
            (select coalesce(max(id), 1000) - 1000 from hs_contact),
            {_seq_max("sf_lead")}, {_seq_max("sf_contact")}, {_seq_max("sf_opportunity")},
            {_seq_max("sf_opportunity_contact_role")})""",
    )


def add_people(
    con: duckdb.DuckDBPyConnection,
    seed: int,
    day_no: int,
    lo: int,
    leads: int,
    n_creatives: int,
    site_campaign: int,
) -> int:
    """New people created during the day, each with a form fill on the website (their
    "New Lead" activity comes from the day's simulation). Returns how many."""
    rng = np.random.default_rng([seed, 20_000 + day_no])
    n = 1 + int(rng.poisson(max(leads * NEW_PEOPLE_PER_MILLE / 1000, 0.5)))
    first_pid = next_person_id(con)
    first_company = 1 + _scalar(con, "select max(company_id) from companies")
    used_domains = {r[0] for r in con.execute("select domain from companies").fetchall()}
    used_free = {
        r[0] for r in con.execute("select email from persons where is_free_mail").fetchall()
    }
    co = make_companies(rng, first_company, max(1, n // LEADS_PER_COMPANY), used_domains)
    pp = make_people(rng, first_pid, n, co, used_free)
    created = lo + np.sort(rng.integers(0, DAY - 3 * 3600, n))
    pp.created_ts = created - created % 60
    lead_source = rng.choice(
        len(systems.LEAD_SOURCES), n, p=[0.35, 0.15, 0.12, 0.15, 0.1, 0.05, 0.08]
    )
    state = LeadState.fresh(n, n_creatives)
    truth = systems.outcomes(rng, pp, state)
    in_hs = rng.random(n) < NEW_IN_HUBSPOT
    in_sf = rng.random(n) < NEW_IN_SALESFORCE
    owners = sf_ids("User", rng.integers(1, systems.SF_USERS + 1, n))
    hs_at = pp.created_ts + rng.integers(60, 3600, n)
    sf_at = pp.created_ts + rng.integers(300, 2 * 3600, n)
    forms = rng.integers(0, len(FORMS), n)
    mkto = systems.marketo_leads(rng, pp, co, state, lead_source)
    mkto["updatedAt"] = mkto["createdAt"]
    _insert(con, "companies", systems.company_rows(co))
    fate = {
        "converted": np.zeros(n, dtype=bool),
        "converted_at": pa.array([None] * n, type=pa.timestamp("s")),
        "won": np.zeros(n, dtype=bool),
        "won_amount": np.zeros(n),
        "in_hubspot": in_hs,
        "in_salesforce": in_sf,
    }
    _insert(
        con, "persons", systems.person_rows(pp, co, state, lead_source, truth["propensity"], fate)
    )
    _insert(con, "mkto_lead", {k: _plain(v) for k, v in mkto.items()})
    _add_hubspot(con, rng, pp, co, in_hs, hs_at)
    s = np.flatnonzero(in_sf)
    _insert(
        con,
        "sf_lead",
        {
            "Id": sf_ids("Lead", pp.person_id[s]),
            "person_id": pp.person_id[s],
            "Email": [pp.email[i] for i in s],
            "FirstName": [pp.first_name[i] for i in s],
            "LastName": [pp.last_name[i] for i in s],
            "Company": [co.variants[pp.company[i]][2] for i in s],
            "Title": [pp.title[i] for i in s],
            "Industry": [nm.INDUSTRIES[co.industry[pp.company[i]]] for i in s],
            "NumberOfEmployees": co.employees[pp.company[s]],
            "Status": ["Open - Not Contacted"] * len(s),
            "LeadSource": [systems.LEAD_SOURCES[lead_source[i]] for i in s],
            "OwnerId": [owners[i] for i in s],
            "IsConverted": np.zeros(len(s), dtype=bool),
            "IsDeleted": np.zeros(len(s), dtype=bool),
            "CreatedDate": _ts(sf_at[s]),
            "SystemModstamp": _ts(sf_at[s]),
        },
    )
    _register(
        con, "_new_leads", {"Id": sf_ids("Lead", pp.person_id[s]), "changed_at": _ts(sf_at[s])}
    )
    leadhistory.record(
        con,
        """select "Id" as lead_id, 'created' as field, null as old_value, null as new_value,
            changed_at from _new_leads""",
    )
    con.unregister("_new_leads")
    events = Events()
    events.add(pp.person_id, pp.created_ts + 1, FORM, site_campaign, forms)
    staged = events.arrays()
    staged["seq"] = np.arange(len(staged["lead"]), dtype=np.int32)
    _insert(con, "_stage", staged)
    return n


def _add_hubspot(
    con: duckdb.DuckDBPyConnection,
    rng: np.random.Generator,
    pp: People,
    co: Companies,
    in_hs: np.ndarray,
    created: np.ndarray,
) -> None:
    """New people's HubSpot contacts (new leads), their companies and associations."""
    h = np.flatnonzero(in_hs)
    contacts = {
        "id": 1000 + pp.person_id[h],
        "person_id": pp.person_id[h],
        "email": [pp.email[i] for i in h],
        "firstname": [pp.first_name[i] for i in h],
        "lastname": [pp.last_name[i] for i in h],
        "company": [co.variants[pp.company[i]][1] for i in h],
        "jobtitle": [pp.title[i] for i in h],
        "industry": [systems.hs_industry(co.industry[pp.company[i]]) for i in h],
        "lifecyclestage": ["lead"] * len(h),
        "hs_lead_status": ["NEW"] * len(h),
        "hubspot_owner_id": pa.array([None] * len(h), type=pa.string()),
        "createdate": _ts(created[h]),
        "lastmodifieddate": _ts(created[h]),
        "archived": np.zeros(len(h), dtype=bool),
    }
    companies, links = systems.hubspot_companies(
        rng, co, pp, in_hs, contacts, update_share=0.0, archive_share=0.0
    )
    _insert(con, "hs_contact", contacts)
    _insert(con, "hs_company", {k: _plain(v) for k, v in companies.items()})
    _insert(con, "hs_contact_company", links)


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray) and value.dtype == object:
        return value.tolist()
    return value


def _existing(con: duckdb.DuckDBPyConnection, table: str, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    _register(con, "_ids", {"wanted": ids})
    found = {
        r[0]
        for r in con.execute(
            f'select t."Id" from {table} as t join _ids on t."Id" = _ids.wanted'
        ).fetchall()
    }
    con.unregister("_ids")
    return found


def convert_leads(con: duckdb.DuckDBPyConnection, seed: int, day_no: int, lo: int) -> int:
    """Open Salesforce leads (not disqualified) converted during the day, with a daily
    hazard proportional to the person's propensity: a Contact, an Opportunity
    (Prospecting), the Account of the company when it has none yet, and ground truth
    ``converted``."""
    rows = con.execute(
        f"""
        select l."Id", l.person_id, l."OwnerId", l."LeadSource", p.company_id, c.name,
            c.domain, c.industry, c.employee_count, c.size_band, p.first_name, p.last_name,
            p.title, p.department, p.email, p.seniority
        from sf_lead as l join persons as p using (person_id)
        join companies as c using (company_id)
        where not l."IsDeleted" and not l."IsConverted"
            and l."Status" is distinct from 'Closed - Not Converted'
            -- a lead Nurture handed over converts only once sales accepted it
            and (l."Nurture_Lead_Id__c" is null or l."Status" = 'Working - Contacted')
            and l."CreatedDate" < to_timestamp({lo})::timestamp
            and hash(l."Id", {seed}, {day_no}, 'convert') % 1000000
                < p.propensity * {CONVERT_RATE * 1_000_000}
        order by l."Id" """
    ).fetchall()
    pids = [r[1] for r in rows]
    taken = _existing(con, "sf_contact", sf_ids("Contact", pids)) | _existing(
        con, "sf_opportunity", sf_ids("Opportunity", pids)
    )
    rows = [r for r in rows if sf_ids("Contact", [r[1]])[0] not in taken]
    rows = [r for r in rows if sf_ids("Opportunity", [r[1]])[0] not in taken]
    if not rows:
        return 0
    rng = np.random.default_rng([seed, 30_000 + day_no])
    n = len(rows)
    ts = lo + rng.integers(3600, DAY - 600, n)
    price = rng.normal(0, 0.35, n)
    pid = np.array([r[1] for r in rows], dtype=np.int64)
    contacts = sf_ids("Contact", pid)
    opps = sf_ids("Opportunity", pid)
    have = _existing(con, "sf_account", sf_ids("Account", sorted({r[4] for r in rows})))
    new_accounts: dict[str, int] = {}
    for k in np.argsort(ts, kind="stable"):
        r = rows[k]
        acc = sf_ids("Account", [r[4]])[0]
        if acc not in have and acc not in new_accounts:
            new_accounts[acc] = int(k)
    accounts = [sf_ids("Account", [r[4]])[0] for r in rows]
    a_rows = [rows[k] for k in new_accounts.values()]
    a_ts = [int(ts[k]) for k in new_accounts.values()]
    _insert(
        con,
        "sf_account",
        {
            "Id": list(new_accounts),
            "Name": [r[5] for r in a_rows],
            "Website": [f"https://www.{r[6]}" for r in a_rows],
            "Industry": [r[7] for r in a_rows],
            "NumberOfEmployees": np.array([r[8] for r in a_rows], dtype=np.int64),
            "OwnerId": [r[2] for r in a_rows],
            "CreatedDate": _ts(a_ts),
            "SystemModstamp": _ts(a_ts),
            "IsDeleted": np.zeros(len(a_rows), dtype=bool),
        },
    )
    stamps = _ts(ts)
    _insert(
        con,
        "sf_contact",
        {
            "Id": contacts,
            "AccountId": accounts,
            "Email": [r[14] for r in rows],
            "FirstName": [r[10] for r in rows],
            "LastName": [r[11] for r in rows],
            "Title": [r[12] for r in rows],
            "Department": [r[13] for r in rows],
            "LeadSource": [r[3] for r in rows],
            "OwnerId": [r[2] for r in rows],
            "CreatedDate": stamps,
            "SystemModstamp": stamps,
            "IsDeleted": np.zeros(n, dtype=bool),
        },
    )
    amount = [
        round(systems.BAND_PRICE[nm.SIZE_BANDS.index(r[9])] * float(np.exp(price[k])), -4)
        for k, r in enumerate(rows)
    ]
    close = [to_datetime(int(t) + 45 * DAY).date() for t in ts]
    stage, prob = systems.STAGES[0]
    _insert(
        con,
        "sf_opportunity",
        {
            "Id": opps,
            "AccountId": accounts,
            "Name": [
                f"{r[5]} - Nurture {to_datetime(int(t)).year}"
                for r, t in zip(rows, ts, strict=True)
            ],
            "Type": [renewals.NEW_BUSINESS] * n,
            "StageName": [stage] * n,
            "Amount": amount,
            "CloseDate": close,
            "IsClosed": np.zeros(n, dtype=bool),
            "IsWon": np.zeros(n, dtype=bool),
            "Probability": np.full(n, prob, dtype=np.int32),
            "LeadSource": [r[3] for r in rows],
            "OwnerId": [r[2] for r in rows],
            "CreatedDate": stamps,
            "SystemModstamp": stamps,
            "IsDeleted": np.zeros(n, dtype=bool),
        },
    )
    _insert(
        con,
        "sf_opportunity_history",
        {
            "Id": sf_ids("OpportunityHistory", pid * 8),
            "OpportunityId": opps,
            "StageName": [stage] * n,
            "Amount": amount,
            "CloseDate": close,
            "Probability": np.full(n, prob, dtype=np.int32),
            "CreatedDate": stamps,
            "SystemModstamp": stamps,
            "IsDeleted": np.zeros(n, dtype=bool),
        },
    )
    _insert(
        con,
        "sf_opportunity_contact_role",
        {
            "Id": sf_ids("OpportunityContactRole", pid),
            "OpportunityId": opps,
            "ContactId": contacts,
            "Role": ["Decision Maker" if r[15] in _SENIOR else "Evaluator" for r in rows],
            "IsPrimary": np.ones(n, dtype=bool),
            "CreatedDate": stamps,
            "SystemModstamp": stamps,
            "IsDeleted": np.zeros(n, dtype=bool),
        },
    )
    _register(
        con,
        "_conv",
        {
            "lead": [r[0] for r in rows],
            "person_id": pid,
            "ts": stamps,
            "account": accounts,
            "contact": contacts,
            "opp": opps,
        },
    )
    leadhistory.record(
        con,
        """select c.lead as lead_id, 'Status' as field, l."Status" as old_value,
            'Closed - Converted' as new_value, c.ts as changed_at
        from _conv as c join sf_lead as l on l."Id" = c.lead""",
    )
    con.execute("""
        update sf_lead set "IsConverted" = true, "Status" = 'Closed - Converted',
            "ConvertedDate" = cast(c.ts as date), "ConvertedAccountId" = c.account,
            "ConvertedContactId" = c.contact, "ConvertedOpportunityId" = c.opp,
            "SystemModstamp" = greatest("SystemModstamp", c.ts)
        from _conv as c where sf_lead."Id" = c.lead""")
    con.execute("""
        update persons set converted = true, converted_at = c.ts
        from _conv as c where persons.person_id = c.person_id""")
    con.execute("""
        update hs_contact set lifecyclestage = 'opportunity', hs_lead_status = 'OPEN_DEAL',
            lastmodifieddate = greatest(lastmodifieddate, c.ts)
        from _conv as c where hs_contact.person_id = c.person_id and not archived""")
    con.execute("""
        update sf_campaign_member set "ContactId" = c.contact,
            "SystemModstamp" = greatest("SystemModstamp", c.ts)
        from _conv as c where sf_campaign_member.person_id = c.person_id""")
    con.unregister("_conv")
    return n


_SENIOR = {s[1] for s in nm.SENIORITY[3:]}


def move_opportunities(
    con: duckdb.DuckDBPyConnection, seed: int, day_no: int, lo: int
) -> dict[str, int]:
    """Open opportunities that move a stage during the day. Each move loses the deal with
    a chance set so that a deal is won with probability 0.25 + 0.5 x propensity (as in
    the built world); a move from the last open stage closes it Won."""
    stages = {name: k for k, (name, _) in enumerate(systems.STAGES)}
    rows = con.execute(
        f"""
        select o."Id", o."StageName", o."Amount", p.propensity, p.person_id,
            (select count(*) from sf_opportunity_history as h
             where h."OpportunityId" = o."Id") as steps
        from sf_opportunity as o
        join sf_lead as l on l."ConvertedOpportunityId" = o."Id"
        join persons as p on p.person_id = l.person_id
        where not o."IsClosed" and not o."IsDeleted"
            and o."CreatedDate" < to_timestamp({lo})::timestamp
            and hash(o."Id", {seed}, {day_no}, 'stage') % 1000 < {STAGE_MOVE_PER_MILLE}
        order by o."Id" """
    ).fetchall()
    rows = [r for r in rows if r[1] in stages and r[5] < 7]
    counts = {"opportunities_moved": 0, "opportunities_won": 0, "opportunities_lost": 0}
    if not rows:
        return counts
    rng = np.random.default_rng([seed, 40_000 + day_no])
    n = len(rows)
    draw = rng.random(n)
    ts = lo + rng.integers(3600, DAY - 600, n)
    out: dict[str, list] = {
        k: [] for k in ("Id", "StageName", "Probability", "IsClosed", "IsWon", "ts", "pid")
    }
    hist_ids = []
    for k, (opp, stage, _amount, propensity, pid, steps) in enumerate(rows):
        p_win = 0.25 + 0.5 * float(propensity)
        lose = 1 - p_win ** (1 / len(systems.STAGES))
        at = stages[stage]
        if draw[k] < lose:
            new = systems.LOST
        elif at == len(systems.STAGES) - 1:
            new = systems.WON
        else:
            new = systems.STAGES[at + 1]
        closed = new in (systems.WON, systems.LOST)
        out["Id"].append(opp)
        out["StageName"].append(new[0])
        out["Probability"].append(new[1])
        out["IsClosed"].append(closed)
        out["IsWon"].append(new == systems.WON)
        out["ts"].append(int(ts[k]))
        out["pid"].append(int(pid))
        hist_ids.append(sf_seq(opp) * 8 + int(steps))
        counts["opportunities_moved"] += 1
        counts["opportunities_won"] += new == systems.WON
        counts["opportunities_lost"] += new == systems.LOST
    out["ts"] = _ts(out["ts"])
    out["Probability"] = np.array(out["Probability"], dtype=np.int32)
    _register(con, "_moves", out)
    con.execute("""
        update sf_opportunity set "StageName" = m."StageName", "Probability" = m."Probability",
            "IsClosed" = m."IsClosed", "IsWon" = m."IsWon",
            "CloseDate" = case when m."IsClosed" then cast(m.ts as date) else "CloseDate" end,
            "SystemModstamp" = greatest("SystemModstamp", m.ts)
        from _moves as m where sf_opportunity."Id" = m."Id" """)
    _register(con, "_hist", {"hid": sf_ids("OpportunityHistory", hist_ids), "Id": out["Id"]})
    con.execute("""
        insert into sf_opportunity_history
        select h.hid, o."Id", o."StageName", o."Amount", o."CloseDate", o."Probability",
            o."SystemModstamp", o."SystemModstamp", false
        from _hist as h join sf_opportunity as o using ("Id") order by h.hid""")
    con.unregister("_hist")
    con.execute("""
        update persons set won = true, won_amount = o."Amount"
        from _moves as m join sf_opportunity as o using ("Id")
        where persons.person_id = m.pid and m."IsWon" """)
    con.execute("""
        update hs_contact set lifecyclestage = 'customer',
            lastmodifieddate = greatest(lastmodifieddate, m.ts)
        from _moves as m where hs_contact.person_id = m.pid and m."IsWon" and not archived""")
    con.unregister("_moves")
    return {k: int(v) for k, v in counts.items()}


def merge_leads(con: duckdb.DuckDBPyConnection, seed: int, day_no: int, lo: int) -> int:
    """Duplicate Marketo leads merged into the person's primary lead during the day: the
    loser leaves ``mkto_lead``, its activities move to the winner, and a "Delete Lead"
    record (type 37) takes the next activity id in ``mkto_deleted_lead``."""
    rows = con.execute(
        f"""
        select d.id, d.person_id, d."firstName", d."lastName"
        from mkto_lead as d join mkto_lead as w on w.id = d.person_id
        where d.id <> d.person_id and d."createdAt" < to_timestamp({lo})::timestamp
            and hash(d.id, {seed}, {day_no}, 'merge') % 1000 < {MERGE_PER_MILLE}
        order by d.id"""
    ).fetchall()
    if not rows:
        return 0
    rng = np.random.default_rng([seed, 50_000 + day_no])
    ts = lo + rng.integers(600, DAY - 600, len(rows))
    order = np.argsort(ts, kind="stable")
    first = 1 + _scalar(
        con,
        """select greatest((select coalesce(max(id), 0) from activities),
                           (select coalesce(max(id), 0) from mkto_deleted_lead))""",
    )
    ids = np.arange(first, first + len(rows), dtype=np.int64)
    loser = np.array([rows[k][0] for k in order], dtype=np.int64)
    winner = np.array([rows[k][1] for k in order], dtype=np.int64)
    _insert(
        con,
        "mkto_deleted_lead",
        {
            "id": ids,
            "marketo_guid": [str(i) for i in ids],
            "lead_id": loser,
            "activity_date": _ts(ts[order]),
            "activity_type_id": np.full(len(rows), MERGE_ACTIVITY_TYPE, dtype=np.int32),
            "primary_attribute_value_id": loser,
            "primary_attribute_value": [f"{rows[k][2]} {rows[k][3]}" for k in order],
            "merged_into": winner,
        },
    )
    _register(con, "_merge", {"loser": loser, "winner": winner, "ts": _ts(ts[order])})
    con.execute("delete from mkto_lead where id in (select loser from _merge)")
    con.execute("""
        update activities set lead_id = m.winner
        from _merge as m where activities.lead_id = m.loser""")
    con.execute("""
        update mkto_lead set "updatedAt" = greatest("updatedAt", m.ts)
        from _merge as m where mkto_lead.id = m.winner""")
    con.unregister("_merge")
    return len(rows)
