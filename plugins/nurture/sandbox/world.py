"""The simulated B2B world: generated in chunks into a DuckDB file, cached per (seed, leads).

Each chunk of CHUNK people draws from its own generator seeded with (seed, chunk number),
so a world is the same on every machine and memory stays flat as the world grows. The
file is built under a temporary name and renamed, so a crash never leaves half a world.

Tables (see ``TABLES`` for columns): ground truth ``companies``, ``persons``; Marketo
``mkto_lead``, ``activities``, ``campaigns``, ``emails``; HubSpot ``hs_contact``,
``hs_company``, ``hs_contact_company`` (associations; the view ``hs_contact_company_live``
holds those the API serves) and ``hs_owner``; Salesforce ``sf_lead``, ``sf_account``,
``sf_contact``, ``sf_opportunity``, ``sf_opportunity_history``,
``sf_opportunity_contact_role``, ``sf_user``, ``sf_task``, ``sf_campaign_member`` (built
from the activities after them) and the view ``sf_campaign`` (launched programs as of the
advanced day, made by ``ensure_schema``); ``mkto_deleted_lead`` (leads merged away on
advance, empty in a fresh world); and ``meta`` (seed, leads, days advanced). A world
built before the late tables gets them when opened read-write.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from nurture.sandbox import names as nm
from nurture.sandbox import systems
from nurture.sandbox.activity import (
    ACTIVITY_TYPES,
    FORM,
    FORMS,
    NEW_LEAD,
    QP_SEGMENT,
    QP_UTM,
    Chunk,
    Events,
    LeadState,
    simulate,
)
from nurture.sandbox.campaigns import (
    CHANNELS,
    CONTENT_TYPES,
    PROGRAM_STATUSES,
    Calendar,
    build_calendar,
)
from nurture.sandbox.clock import ANCHOR, history_start, today_ts
from nurture.sandbox.people import LEADS_PER_COMPANY, make_companies, make_people
from nurture.sandbox.sfids import sf_ids

CHUNK = 5000
FORMAT_VERSION = 3
MAX_LEADS = 1_000_000

TABLES: dict[str, str] = {
    "meta": "key VARCHAR PRIMARY KEY, value VARCHAR",
    "companies": """company_id BIGINT, name VARCHAR, domain VARCHAR, industry VARCHAR,
        employee_count BIGINT, size_band VARCHAR, is_japanese BOOLEAN""",
    "persons": """person_id BIGINT, company_id BIGINT, first_name VARCHAR, last_name VARCHAR,
        title VARCHAR, seniority VARCHAR, department VARCHAR, email VARCHAR,
        is_free_mail BOOLEAN, is_japanese BOOLEAN, created_at TIMESTAMP, lead_source VARCHAR,
        fit DOUBLE, engagement DOUBLE, realized_engagement DOUBLE, propensity DOUBLE,
        converted BOOLEAN, converted_at TIMESTAMP, won BOOLEAN, won_amount DOUBLE,
        in_hubspot BOOLEAN, in_salesforce BOOLEAN, bad_address BOOLEAN,
        unsubscribed_ts BIGINT, invalid_ts BIGINT, recent_sends DOUBLE, last_touch_ts BIGINT,
        exposures SMALLINT[]""",
    "mkto_lead": """id BIGINT, person_id BIGINT, email VARCHAR, "firstName" VARCHAR,
        "lastName" VARCHAR, company VARCHAR, title VARCHAR, industry VARCHAR,
        "numberOfEmployees" BIGINT, "leadSource" VARCHAR, unsubscribed BOOLEAN,
        "emailInvalid" BOOLEAN, "createdAt" TIMESTAMP, "updatedAt" TIMESTAMP""",
    "hs_contact": """id BIGINT, person_id BIGINT, email VARCHAR, firstname VARCHAR,
        lastname VARCHAR, company VARCHAR, jobtitle VARCHAR, industry VARCHAR,
        lifecyclestage VARCHAR, hs_lead_status VARCHAR, hubspot_owner_id VARCHAR,
        createdate TIMESTAMP, lastmodifieddate TIMESTAMP, archived BOOLEAN""",
    "sf_lead": """"Id" VARCHAR, person_id BIGINT, "Email" VARCHAR, "FirstName" VARCHAR,
        "LastName" VARCHAR, "Company" VARCHAR, "Title" VARCHAR, "Industry" VARCHAR,
        "NumberOfEmployees" BIGINT, "Status" VARCHAR, "LeadSource" VARCHAR, "OwnerId" VARCHAR,
        "IsConverted" BOOLEAN, "ConvertedDate" DATE, "ConvertedAccountId" VARCHAR,
        "ConvertedContactId" VARCHAR, "ConvertedOpportunityId" VARCHAR, "IsDeleted" BOOLEAN,
        "CreatedDate" TIMESTAMP, "SystemModstamp" TIMESTAMP, "Nurture_Lead_Id__c" VARCHAR,
        "Nurture_Score__c" DOUBLE, "Nurture_Grade__c" VARCHAR""",
    "sf_account": """"Id" VARCHAR, "Name" VARCHAR, "Website" VARCHAR, "Industry" VARCHAR,
        "NumberOfEmployees" BIGINT, "OwnerId" VARCHAR, "CreatedDate" TIMESTAMP,
        "SystemModstamp" TIMESTAMP, "IsDeleted" BOOLEAN""",
    "sf_contact": """"Id" VARCHAR, "AccountId" VARCHAR, "Email" VARCHAR, "FirstName" VARCHAR,
        "LastName" VARCHAR, "Title" VARCHAR, "Department" VARCHAR, "LeadSource" VARCHAR,
        "OwnerId" VARCHAR, "CreatedDate" TIMESTAMP, "SystemModstamp" TIMESTAMP,
        "IsDeleted" BOOLEAN""",
    "sf_opportunity": """"Id" VARCHAR, "AccountId" VARCHAR, "Name" VARCHAR,
        "StageName" VARCHAR, "Amount" DOUBLE, "CloseDate" DATE, "IsClosed" BOOLEAN,
        "IsWon" BOOLEAN, "Probability" INTEGER, "LeadSource" VARCHAR, "OwnerId" VARCHAR,
        "CreatedDate" TIMESTAMP, "SystemModstamp" TIMESTAMP, "IsDeleted" BOOLEAN,
        "Type" VARCHAR""",
    "sf_opportunity_history": """"Id" VARCHAR, "OpportunityId" VARCHAR, "StageName" VARCHAR,
        "Amount" DOUBLE, "CloseDate" DATE, "Probability" INTEGER, "CreatedDate" TIMESTAMP,
        "SystemModstamp" TIMESTAMP, "IsDeleted" BOOLEAN""",
    "sf_opportunity_contact_role": """"Id" VARCHAR, "OpportunityId" VARCHAR,
        "ContactId" VARCHAR, "Role" VARCHAR, "IsPrimary" BOOLEAN, "CreatedDate" TIMESTAMP,
        "SystemModstamp" TIMESTAMP, "IsDeleted" BOOLEAN""",
    "sf_user": """"Id" VARCHAR, "Name" VARCHAR, "FirstName" VARCHAR, "LastName" VARCHAR,
        "Email" VARCHAR, "Title" VARCHAR, "IsActive" BOOLEAN, "CreatedDate" TIMESTAMP,
        "SystemModstamp" TIMESTAMP""",
    "sf_task": """"Id" VARCHAR, "WhoId" VARCHAR, "Subject" VARCHAR, "Description" VARCHAR,
        "Status" VARCHAR, "Priority" VARCHAR, "ActivityDate" DATE, "OwnerId" VARCHAR,
        "CreatedDate" TIMESTAMP, "SystemModstamp" TIMESTAMP, "IsDeleted" BOOLEAN""",
    "hs_company": """id BIGINT, company_id BIGINT, name VARCHAR, domain VARCHAR,
        industry VARCHAR, numberofemployees BIGINT, city VARCHAR, country VARCHAR,
        lifecyclestage VARCHAR, hubspot_owner_id VARCHAR, createdate TIMESTAMP,
        hs_lastmodifieddate TIMESTAMP, archived BOOLEAN""",
    "hs_contact_company": "contact_id BIGINT, company_id BIGINT, is_primary BOOLEAN",
    "hs_owner": """id VARCHAR, email VARCHAR, "firstName" VARCHAR, "lastName" VARCHAR,
        "userId" BIGINT, "createdAt" TIMESTAMP, "updatedAt" TIMESTAMP, archived BOOLEAN""",
    "campaigns": """campaign_id INTEGER, name VARCHAR, channel VARCHAR, program_type VARCHAR,
        content_type VARCHAR, utm VARCHAR, launch_at TIMESTAMP, end_at TIMESTAMP,
        budgeted_cost DOUBLE""",
    "emails": """mailing_id INTEGER, campaign_id INTEGER, name VARCHAR, variant VARCHAR,
        creative_id INTEGER, content_type VARCHAR, subject VARCHAR, send_at TIMESTAMP,
        appeal DOUBLE, true_ctr DOUBLE""",
    # Marketo program period costs; Salesforce ActualCost sums those started by today
    "campaign_costs": "campaign_id INTEGER, start_date DATE, cost DOUBLE, note VARCHAR",
    "mkto_deleted_lead": """id BIGINT, marketo_guid VARCHAR, lead_id BIGINT,
        activity_date TIMESTAMP, activity_type_id INTEGER, primary_attribute_value_id BIGINT,
        primary_attribute_value VARCHAR, merged_into BIGINT""",
    "sf_campaign_member": """"Id" VARCHAR, person_id BIGINT, "CampaignId" VARCHAR,
        "LeadId" VARCHAR, "ContactId" VARCHAR, "Status" VARCHAR, "HasResponded" BOOLEAN,
        "CreatedDate" TIMESTAMP, "SystemModstamp" TIMESTAMP, "IsDeleted" BOOLEAN""",
    # Salesforce field history of Lead: a "created" row, then Status and hand-off changes
    "sf_lead_history": """"Id" VARCHAR, "LeadId" VARCHAR, "Field" VARCHAR,
        "OldValue" VARCHAR, "NewValue" VARCHAR, "CreatedDate" TIMESTAMP, "IsDeleted" BOOLEAN""",
    "_stage": """lead BIGINT, ts BIGINT, type SMALLINT, campaign INTEGER, asset INTEGER,
        variant INTEGER, link INTEGER, qp INTEGER, category INTEGER, status_new INTEGER,
        status_old INTEGER, mobile INTEGER, seq INTEGER""",
}
# Columns of the served activities table; the attribute columns map to Marketo names.
ACTIVITY_ATTRIBUTES: dict[str, str] = {
    "mailing_id": "Mailing ID",
    "campaign_run_id": "Campaign Run ID",
    "variant": "Variant",
    "link": "Link",
    "is_mobile_device": "Is Mobile Device",
    "category": "Category",
    "webpage_url": "Webpage URL",
    "query_parameters": "Query Parameters",
    "referrer_url": "Referrer URL",
    "new_status": "New Status",
    "old_status": "Old Status",
    "lead_source": "Lead Source",
}


class WorldError(ValueError):
    """The world cannot be built or opened as asked; the message says why."""


def sandbox_home(home: Path | str | None = None) -> Path:
    base = Path(home) if home is not None else Path(os.environ.get("NURTURE_HOME", ".nurture"))
    return base.expanduser().resolve() / "sandbox"


def world_path(seed: int, leads: int, home: Path | str | None = None) -> Path:
    return sandbox_home(home) / f"world-v{FORMAT_VERSION}-s{seed}-n{leads}.duckdb"


def check_spec(seed: int, leads: int) -> None:
    if seed < 0:
        raise WorldError(f"--seed must be zero or positive, not {seed}.")
    if not 1 <= leads <= MAX_LEADS:
        raise WorldError(f"--leads must be between 1 and {MAX_LEADS:,}, not {leads}.")


def ensure_world(seed: int, leads: int, home: Path | str | None = None) -> Path:
    """The cached world file for (seed, leads), built first if missing."""
    check_spec(seed, leads)
    path = world_path(seed, leads, home)
    if not path.exists():
        build_world(seed, leads, path)
    return path


@contextmanager
def connect(path: Path | str, read_only: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def build_world(seed: int, leads: int, path: Path | str) -> Path:
    check_spec(seed, leads)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    cal = build_calendar(seed)
    try:
        with connect(tmp, read_only=False) as con:
            # A fixed memory budget: DuckDB spills the final sort to disk instead of growing.
            con.execute("SET memory_limit = '512MB'")
            con.execute("SET enable_progress_bar = false")
            con.execute("SET preserve_insertion_order = false")
            for name, ddl in TABLES.items():
                con.execute(f"CREATE TABLE {name} ({ddl})")
            _write_static(con, seed, leads, cal)
            used_domains: set[str] = set()
            used_free: set[str] = set()
            next_dup = leads + 1
            for chunk_no, first in enumerate(range(0, leads, CHUNK)):
                n = min(CHUNK, leads - first)
                rng = np.random.default_rng([seed, chunk_no])
                next_dup = _build_chunk(
                    con, rng, cal, chunk_no, first, n, next_dup, used_domains, used_free
                )
            _write_click_truth(con, cal)
            finish_activities(con)
            build_campaign_members(con)
            ensure_schema(con)
            con.execute("CHECKPOINT")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
    return path


def _write_click_truth(con: duckdb.DuckDBPyConnection, cal: Calendar) -> None:
    """emails.true_ctr: the expected unique CTR of each mailing's delivered sends."""
    truth = {k: v[0] / v[1] for k, v in cal.click_truth.items() if v[1] > 0}
    if not truth:
        return
    con.execute("CREATE TEMP TABLE _click_truth (mailing_id INTEGER, true_ctr DOUBLE)")
    con.executemany("INSERT INTO _click_truth VALUES (?, ?)", list(truth.items()))
    con.execute("""update emails set true_ctr = t.true_ctr from _click_truth as t
                   where emails.mailing_id = t.mailing_id""")
    con.execute("DROP TABLE _click_truth")


def _insert(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, object]) -> None:
    data = pa.table(
        {k: v if isinstance(v, pa.Array) else pa.array(_plain(v)) for k, v in columns.items()}
    )
    if data.num_rows == 0:
        return
    con.register("_chunk", data)
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _chunk")
    con.unregister("_chunk")


def _plain(value: object) -> object:
    if isinstance(value, np.ndarray) and value.dtype == object:
        return value.tolist()
    return value


def _write_static(con: duckdb.DuckDBPyConnection, seed: int, leads: int, cal: Calendar) -> None:
    meta = {
        "seed": seed,
        "leads": leads,
        "anchor": ANCHOR.isoformat(),
        "days_advanced": 0,
        "format_version": FORMAT_VERSION,
    }
    _insert(con, "meta", {"key": list(meta), "value": [str(v) for v in meta.values()]})
    progs = cal.programs
    _insert(
        con,
        "campaigns",
        {
            "campaign_id": np.array([p.campaign_id for p in progs], dtype=np.int32),
            "name": [p.name for p in progs],
            "channel": [p.channel for p in progs],
            "program_type": [p.program_type for p in progs],
            "content_type": [p.content_type for p in progs],
            "utm": [p.utm for p in progs],
            "launch_at": np.array([p.launch_ts for p in progs], dtype="datetime64[s]"),
            "end_at": np.array([p.end_ts for p in progs], dtype="datetime64[s]"),
            "budgeted_cost": [cal.budgets[p.campaign_id] for p in progs],
        },
    )
    _insert(
        con,
        "campaign_costs",
        {
            "campaign_id": np.array([c.campaign_id for c in cal.costs], dtype=np.int32),
            "start_date": np.array(
                [c.start_ts // 86_400 for c in cal.costs], dtype="datetime64[D]"
            ),
            "cost": [c.cost for c in cal.costs],
            "note": [c.note for c in cal.costs],
        },
    )
    rows: dict[str, list] = {
        k: []
        for k in (
            "mailing_id",
            "campaign_id",
            "name",
            "variant",
            "creative_id",
            "content_type",
            "subject",
            "send_at",
            "appeal",
        )
    }
    for k, send in enumerate(cal.sends):
        for v, (creative, mailing) in enumerate(zip(send.creatives, send.mailing_ids, strict=True)):
            rows["mailing_id"].append(mailing)
            rows["campaign_id"].append(send.campaign_id)
            rows["name"].append(f"EM-{k + 1:02d}.Email {'AB'[v]}")
            rows["variant"].append("AB"[v])
            rows["creative_id"].append(creative)
            rows["content_type"].append(CONTENT_TYPES[cal.creative_content[creative]])
            rows["subject"].append(cal.creative_subjects[creative])
            rows["send_at"].append(np.datetime64(send.send_ts, "s"))
            rows["appeal"].append(float(cal.creative_appeal[creative]))
    _insert(con, "emails", rows)
    _insert(con, "sf_user", systems.sf_users())
    _insert(con, "hs_owner", systems.hs_owners())


def _build_chunk(
    con: duckdb.DuckDBPyConnection,
    rng: np.random.Generator,
    cal: Calendar,
    chunk_no: int,
    first: int,
    n: int,
    next_dup: int,
    used_domains: set[str],
    used_free: set[str],
) -> int:
    n_comp = max(1, n // LEADS_PER_COMPANY)
    co = make_companies(rng, chunk_no * (CHUNK // LEADS_PER_COMPANY) + 1, n_comp, used_domains)
    pp = make_people(rng, first + 1, n, co, used_free)
    lead_source = rng.choice(
        len(systems.LEAD_SOURCES), n, p=[0.35, 0.15, 0.12, 0.15, 0.1, 0.05, 0.08]
    )
    state = LeadState.fresh(n, len(cal.creative_appeal))
    chunk = Chunk(
        pp.person_id, pp.created_ts, pp.fit, pp.engagement, pp.bad_address, co.industry[pp.company]
    )
    events = Events()
    simulate(rng, cal, chunk, state, history_start(), today_ts(), events)
    truth = systems.outcomes(rng, pp, state)

    mkto = systems.marketo_leads(rng, pp, co, state, lead_source)
    dups, dup_created = systems.marketo_duplicates(rng, pp, co, next_dup)
    dup_ids = np.asarray(dups["id"])
    events.add(dup_ids, dup_created, NEW_LEAD, 0, 0)
    # The duplicate came from a contact form on the (personalised) website.
    site = cal.by_channel("web_personalization")[0].campaign_id
    events.add(dup_ids, dup_created + 1, FORM, site, FORMS.index("Contact Us"))
    sf_tables, sf_status, opp_state, sales = systems.salesforce(
        rng, pp, co, state, truth, lead_source
    )
    in_hs = rng.random(n) < 0.6
    hs = systems.hubspot_contacts(rng, pp, co, state, in_hs, sf_status, opp_state)
    hs_companies, hs_links = systems.hubspot_companies(
        rng,
        co,
        pp,
        in_hs,
        hs,
        update_share=systems.COMPANY_UPDATED_SHARE,
        archive_share=systems.COMPANY_ARCHIVED_SHARE,
    )

    _insert(con, "companies", systems.company_rows(co))
    fate = {
        "converted": truth["converted"],
        "converted_at": pa.array(
            np.where(truth["converted"], truth["converted_ts"], 0).astype("datetime64[s]"),
            mask=~truth["converted"],
        ),
        "won": sales["won"],
        "won_amount": sales["won_amount"],
        "in_hubspot": in_hs,
        "in_salesforce": sales["in_sf"],
    }
    _insert(
        con, "persons", systems.person_rows(pp, co, state, lead_source, truth["propensity"], fate)
    )
    _insert(con, "mkto_lead", mkto)
    _insert(con, "mkto_lead", dups)
    _insert(con, "hs_contact", hs)
    _insert(con, "hs_company", hs_companies)
    _insert(con, "hs_contact_company", hs_links)
    for table, cols in sf_tables.items():
        _insert(con, table, cols)
    staged = events.arrays()
    staged["seq"] = np.arange(len(staged["lead"]), dtype=np.int32)  # tie-breaker for ids
    _insert(con, "_stage", staged)
    return next_dup + len(dup_ids)


def finish_activities(con: duckdb.DuckDBPyConnection, first_id: int = 1) -> None:
    """Resolve staged codes into Marketo activity rows with ids in activityDate order."""
    _lookup_tables(con)
    select = _ACTIVITY_SELECT.replace("__OFFSET__", str(int(first_id) - 1))
    con.execute(f"CREATE TABLE IF NOT EXISTS activities AS SELECT * FROM ({select}) WHERE false")
    # Rows go in id order so range scans on id (the paging token) skip by zone maps.
    con.execute("SET preserve_insertion_order = true")
    con.execute(f"INSERT INTO activities SELECT * FROM ({select}) ORDER BY id")
    con.execute("DELETE FROM _stage")


def _lookup_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _pages AS SELECT * FROM (VALUES "
        + ",".join(f"({i}, '{nm.SITE}{p}')" for i, (p, _) in enumerate(nm.PAGES))
        + ") t(page, url)"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _statuses AS SELECT * FROM (VALUES "
        + ",".join(f"({i}, '{s}')" for i, s in enumerate(PROGRAM_STATUSES))
        + ") t(code, name)"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _forms AS SELECT * FROM (VALUES "
        + ",".join(f"({i}, '{s}')" for i, s in enumerate(FORMS))
        + ") t(code, name)"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _industries AS SELECT * FROM (VALUES "
        + ",".join(f"({i}, '{s.lower().replace(' ', '-')}')" for i, s in enumerate(nm.INDUSTRIES))
        + ") t(code, slug)"
    )


_EMAIL_TYPES = "(6, 7, 8, 9, 10, 11)"
_ACTIVITY_SELECT = f"""
select
    __OFFSET__ + row_number() over (order by s.ts, s.lead, s.seq) as id,
    cast(__OFFSET__ + row_number() over (order by s.ts, s.lead, s.seq) as varchar) as marketo_guid,
    s.lead as lead_id,
    to_timestamp(s.ts)::timestamp as activity_date,
    cast(s.type as integer) as activity_type_id,
    nullif(s.campaign, 0) as campaign_id,
    case when s.type in {_EMAIL_TYPES} then s.asset
         when s.type = 1 then s.asset + 1
         when s.type = 2 then s.asset + 1
         when s.type = 104 then s.campaign end as primary_attribute_value_id,
    case when s.type in {_EMAIL_TYPES} then e.name
         when s.type = 1 then pg.url
         when s.type = 2 then f.name
         when s.type = 104 then c.name end as primary_attribute_value,
    coalesce(c.channel, 'web_personalization') as channel,
    case when s.type in {_EMAIL_TYPES} then s.asset end as mailing_id,
    case when s.type in {_EMAIL_TYPES} then s.campaign * 10 + 1 end as campaign_run_id,
    case when s.variant > 0 then e.variant end as variant,
    case when s.type = 11 then 'https://{nm.SITE}' || split_part(lk.url, '{nm.SITE}', 2) end
        as link,
    case when s.mobile >= 0 then s.mobile = 1 end as is_mobile_device,
    case s.category when 1 then 'hard' when 2 then 'soft' end as category,
    case when s.type = 1 then 'https://' || pg.url end as webpage_url,
    case when s.qp = {QP_UTM} then c.utm
         when s.qp >= {QP_SEGMENT} then 'rtp_segment=' || ind.slug end as query_parameters,
    case when s.type = 1 and c.channel = 'social' then 'https://t.co/'
         when s.type = 1 and c.channel = 'retargeting_ads' then 'https://www.googleadservices.com/'
         end as referrer_url,
    sn.name as new_status,
    so.name as old_status,
    case when s.type = {NEW_LEAD} then l."leadSource" end as lead_source
from _stage as s
left join campaigns as c on c.campaign_id = s.campaign
left join emails as e on e.mailing_id = s.asset and s.type in {_EMAIL_TYPES}
left join _pages as pg on pg.page = s.asset and s.type = 1
left join _pages as lk on lk.page = s.link
left join _forms as f on f.code = s.asset and s.type = 2
left join _statuses as sn on sn.code = s.status_new
left join _statuses as so on so.code = s.status_old
left join _industries as ind on ind.code = s.qp - {QP_SEGMENT}
left join mkto_lead as l on l.id = s.lead and s.type = {NEW_LEAD}
"""


# Tables added after format 1: created empty (or filled) when an older world is opened.
_LATE_TABLES = (
    "mkto_deleted_lead",
    "sf_campaign_member",
    "hs_company",
    "hs_contact_company",
    "sf_lead_history",
    "campaign_costs",
)
# Activity types that make a campaign member "Responded": visit, form, click, status change.
_RESPONSE_TYPES = "(1, 2, 11, 104)"


def _sf_id_sql(sobject: str, seq_sql: str) -> str:
    """SQL for sfids.sf_id of a sequence expression."""
    probe = sf_ids(sobject, [0])[0]
    return f"'{probe[:5]}' || lpad(cast({seq_sql} as varchar), 10, '0') || '{probe[15:]}'"


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create what a world opened read-write needs beyond format 1: the late tables (empty),
    the ``sf_campaign`` view of launched campaigns (it follows the advanced day) and the
    ``hs_contact_company_live`` view of the associations HubSpot serves."""
    present = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    for name in _LATE_TABLES:
        con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({TABLES[name]})")
    if "sf_campaign_member" not in present:  # a world built before CampaignMember existed
        build_campaign_members(con)
    # costs came with a later format: an older world has none (BudgetedCost null)
    con.execute("ALTER TABLE campaigns ADD COLUMN IF NOT EXISTS budgeted_cost DOUBLE")
    con.execute("ALTER TABLE emails ADD COLUMN IF NOT EXISTS true_ctr DOUBLE")
    today = (
        "(cast((select value from meta where key = 'anchor') as date) "
        "+ cast((select value from meta where key = 'days_advanced') as integer))"
    )
    con.execute(f"""
        CREATE OR REPLACE VIEW sf_campaign AS
        select {_sf_id_sql("Campaign", "campaign_id")} as "Id", name || '' as "Name",
            channel as "Type", cast(launch_at as date) as "StartDate",
            cast(end_at as date) as "EndDate",
            cast(launch_at as date) <= {today} and cast(end_at as date) > {today} as "IsActive",
            launch_at as "CreatedDate",
            greatest(
                case when cast(end_at as date) <= {today} then end_at else launch_at end,
                cast(k.cost_date as timestamp)
            ) as "SystemModstamp",
            false as "IsDeleted",
            budgeted_cost as "BudgetedCost",
            coalesce(k.actual_cost, 0) as "ActualCost"
        from campaigns
        left join (
            select campaign_id as cost_campaign_id, sum(cost) as actual_cost,
                max(start_date) as cost_date
            from campaign_costs where start_date <= {today} group by campaign_id
        ) as k on k.cost_campaign_id = campaigns.campaign_id
        where cast(launch_at as date) <= {today}""")
    # HubSpot serves no association of an archived contact or company.
    con.execute("""
        CREATE OR REPLACE VIEW hs_contact_company_live AS
        select l.contact_id, l.company_id, l.is_primary
        from hs_contact_company as l
        join hs_contact as c on c.id = l.contact_id and not c.archived
        join hs_company as m on m.id = l.company_id and not m.archived""")


def build_campaign_members(con: duckdb.DuckDBPyConnection, since_id: int = 0) -> int:
    """Add (and refresh) Salesforce CampaignMember rows from activities with id > since_id:
    one per (Salesforce lead, campaign) touched; Responded once a response happened."""
    con.execute(f"CREATE TABLE IF NOT EXISTS sf_campaign_member ({TABLES['sf_campaign_member']})")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _touch AS
        select m.person_id, {_sf_id_sql("Campaign", "a.campaign_id")} as campaign,
            min(a.activity_date) as first_at, max(a.activity_date) as last_at,
            bool_or(a.activity_type_id in {_RESPONSE_TYPES}) as responded,
            min(a.activity_date) filter (where a.activity_type_id in {_RESPONSE_TYPES})
                as responded_at
        from activities as a join mkto_lead as m on m.id = a.lead_id
        where a.id > {int(since_id)} and a.campaign_id is not null
            and m.person_id in (select person_id from sf_lead where not "IsDeleted")
        group by all""")
    con.execute("""
        update sf_campaign_member set "Status" = 'Responded', "HasResponded" = true,
            "SystemModstamp" = greatest("SystemModstamp", t.responded_at)
        from _touch as t
        where sf_campaign_member.person_id = t.person_id
            and sf_campaign_member."CampaignId" = t.campaign
            and t.responded and not sf_campaign_member."HasResponded" """)
    first = con.execute("""select coalesce(max(cast(substr("Id", 6, 10) as bigint)), 0)
                           from sf_campaign_member""").fetchone()[0]
    seq = f"{int(first)} + row_number() over (order by t.campaign, t.person_id)"
    added = con.execute(f"""
        insert into sf_campaign_member
        select {_sf_id_sql("CampaignMember", seq)}, t.person_id, t.campaign, l."Id",
            l."ConvertedContactId",
            case when t.responded then 'Responded' else 'Sent' end, t.responded,
            t.first_at, coalesce(t.responded_at, t.first_at), false
        from _touch as t
        join sf_lead as l on l.person_id = t.person_id and not l."IsDeleted"
        anti join sf_campaign_member as c on c.person_id = t.person_id
            and c."CampaignId" = t.campaign
        order by 1""").fetchone()
    con.execute("DROP TABLE _touch")
    return int(added[0]) if added else 0


def read_meta(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("SELECT key, value FROM meta").fetchall())


def count_rows(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Row counts as the APIs serve them, for comparing with what a sync loaded."""
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    return {
        k: int(con.execute(q).fetchone()[0]) if k not in _LATE_COUNTS or t in tables else 0
        for k, q in _COUNTS.items()
        for t in [_LATE_COUNTS.get(k)]
    }


def world_counts(path: Path | str) -> dict[str, int]:
    with connect(path) as con:
        return count_rows(con)


_COUNTS = {
    "persons": "SELECT count(*) FROM persons",
    "marketo_leads": "SELECT count(*) FROM mkto_lead",
    "marketo_activities": "SELECT count(*) FROM activities",
    "hubspot_contacts": "SELECT count(*) FROM hs_contact WHERE NOT archived",
    "hubspot_contacts_archived": "SELECT count(*) FROM hs_contact WHERE archived",
    "hubspot_contacts_all": "SELECT count(*) FROM hs_contact",
    "hubspot_companies": "SELECT count(*) FROM hs_company WHERE NOT archived",
    "hubspot_companies_archived": "SELECT count(*) FROM hs_company WHERE archived",
    "hubspot_companies_all": "SELECT count(*) FROM hs_company",
    # one row per association type: a primary company is typed 1 (Primary) and 279
    "hubspot_contact_company_associations": (
        "SELECT count(*) + count(*) FILTER (WHERE is_primary) FROM hs_contact_company_live"
    ),
    "hubspot_owners": "SELECT count(*) FROM hs_owner WHERE NOT archived",
    "hubspot_owners_archived": "SELECT count(*) FROM hs_owner WHERE archived",
    "salesforce_leads": 'SELECT count(*) FROM sf_lead WHERE NOT "IsDeleted"',
    "salesforce_leads_all": "SELECT count(*) FROM sf_lead",
    "salesforce_contacts": 'SELECT count(*) FROM sf_contact WHERE NOT "IsDeleted"',
    "salesforce_accounts": 'SELECT count(*) FROM sf_account WHERE NOT "IsDeleted"',
    "salesforce_opportunities": 'SELECT count(*) FROM sf_opportunity WHERE NOT "IsDeleted"',
    "converted": "SELECT count(*) FROM persons WHERE converted",
    "campaigns": "SELECT count(*) FROM campaigns",
    "marketo_deleted_leads": "SELECT count(*) FROM mkto_deleted_lead",
    "salesforce_campaign_members": "SELECT count(*) FROM sf_campaign_member",
}
_LATE_COUNTS = {
    "marketo_deleted_leads": "mkto_deleted_lead",
    "salesforce_campaign_members": "sf_campaign_member",
    "hubspot_companies": "hs_company",
    "hubspot_companies_archived": "hs_company",
    "hubspot_companies_all": "hs_company",
    "hubspot_contact_company_associations": "hs_contact_company",
}


TRUTH_TABLES: tuple[str, ...] = (
    "companies",
    "campaigns",
    "emails",
    "mkto_lead",
    "activities",
    "hs_contact",
    "hs_owner",
    "sf_lead",
    "sf_account",
    "sf_contact",
    "sf_opportunity",
    "sf_opportunity_history",
    "sf_opportunity_contact_role",
    "sf_user",
    "sf_task",
)


def write_truth(world: Path | str, out_dir: Path | str) -> dict[str, Path]:
    """Write every object and each lead's propensity and outcome as Parquet files.

    ``lead_truth.parquet`` has one row per person with the ids it has in each system.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    with connect(world) as con:
        present = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        for table in TRUTH_TABLES + _LATE_TABLES:
            if table not in present:  # a world built before the late tables existed
                continue
            target = out / f"{table}.parquet"
            con.execute(f"COPY (SELECT * FROM {table}) TO '{_sql_path(target)}' (FORMAT parquet)")
            written[table] = target
        target = out / "lead_truth.parquet"
        con.execute(f"""
            COPY (
                select
                    p.person_id, p.company_id, p.email, p.first_name, p.last_name, p.title,
                    p.seniority, p.department, p.is_free_mail, p.created_at, p.lead_source,
                    p.fit, p.engagement, p.realized_engagement, p.propensity, p.converted,
                    p.converted_at, p.won, p.won_amount,
                    (select min(m.id) from mkto_lead as m where m.person_id = p.person_id)
                        as marketo_lead_id,
                    (select list(m.id order by m.id) from mkto_lead as m
                        where m.person_id = p.person_id) as marketo_lead_ids,
                    h.id as hubspot_contact_id,
                    (select min(c.id) from hs_company as c where c.company_id = p.company_id)
                        as hubspot_company_id,
                    -- a handed-over lead joins its person on a verdict; the first one counts
                    (select min(s."Id") from sf_lead as s where s.person_id = p.person_id)
                        as sfdc_lead_id
                from persons as p
                left join hs_contact as h on h.person_id = p.person_id
                order by p.person_id
            ) TO '{_sql_path(target)}' (FORMAT parquet)""")
        written["lead_truth"] = target
    return written


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


__all__ = [
    "ACTIVITY_ATTRIBUTES",
    "ACTIVITY_TYPES",
    "CHANNELS",
    "TABLES",
    "TRUTH_TABLES",
    "WorldError",
    "build_world",
    "connect",
    "ensure_world",
    "read_meta",
    "sandbox_home",
    "world_counts",
    "world_path",
    "write_truth",
]
