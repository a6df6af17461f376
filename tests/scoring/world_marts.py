"""The marts the scorer reads, built straight from a sandbox world file (test fixture).

Syncing a world through the sandbox APIs and running dbt takes minutes; the scoring
tests need only the columns `nurture.scoring.run` reads, so this builds them from the
world's system tables with the same rules the dbt models apply:

- `marts.dim_lead`: one row per person (identity resolution is dbt's job: here the
  world's person id stands in for it); title, industry, head count, lead source and
  opt-outs from the Marketo lead; seniority and department parsed with the regular
  expressions of the `people_seniority` / `people_department` macros; size band from
  `company_size_bands`; `funnel_stage` and `is_converted` from the Salesforce leads and
  opportunities only (Lead Status, IsConverted, ConvertedOpportunityId, IsWon).
- `marts.fct_engagement_events`: Marketo activities of touch types, named by the
  `marketo_activity_types` seed, with the new program status and programme channel.
- `intermediate.int_lifecycle_stage_history`: the Salesforce lead-status verdicts (sal,
  recycled, disqualified) and conversions (sql).

Ground truth (`persons.propensity`, `converted`) is returned separately for evaluation.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from nurture.warehouse import get_warehouse

REPO = Path(__file__).resolve().parents[2]
SEED_CSV = REPO / "dbt_project" / "seeds" / "marketo_activity_types.csv"

# the regular expressions of the dbt macros people_seniority and people_department
SENIORITY = (
    (
        "c_level",
        "取締役|代表|社長|会長|役員|執行役員|cxo|chief|president|founder"
        "|(^|[^a-z])c[a-z]?[a-z]o([^a-z]|$)",
    ),
    ("vp", "本部長|事業部長|統括|(^|[^a-z])(vp|svp|evp)([^a-z]|$)|vice president|head of"),
    ("director", "部長|director"),
    ("manager", "課長|室長|店長|次長|係長|マネージャ|manager|(^|[^a-z])lead([^a-z]|$)"),
)
DEPARTMENT = (
    ("marketing", "マーケ|広報|宣伝|marketing|brand|(^|[^a-z])cmo([^a-z]|$)"),
    ("sales", "営業|販売|sales|buyer|購買|account exec"),
    ("it", "情報システム|情シス|security|セキュリティ|(^|[^a-z])(it|cio|ciso|cto)([^a-z]|$)"),
    ("engineering", "開発|技術|エンジニア|engineer|developer|research|研究"),
    ("human_resources", "人事|human resources|(^|[^a-z])hr([^a-z]|$)"),
    ("finance", "経理|財務|finance|accounting|(^|[^a-z])cfo([^a-z]|$)"),
    ("operations", "総務|general affairs|operations|運用"),
)


def _case(choices: tuple[tuple[str, str], ...], null: str, default: str) -> str:
    whens = " ".join(f"when regexp_matches(t, '{p}') then '{v}'" for v, p in choices)
    return f"case when t is null then {null} {whens} else {default} end"


DIM_LEAD_SQL_TEMPLATE = """
with mkto as (
    select person_id,
        min(title) as job_title, min(industry) as industry,
        max("numberOfEmployees") as number_of_employees, min("leadSource") as lead_source,
        bool_or(unsubscribed) as is_unsubscribed, bool_or("emailInvalid") as is_email_invalid,
        min("createdAt") as created_at
    from mkto_lead group by person_id
),
sf as (
    select l.person_id,
        bool_or(l."IsConverted") as is_converted,
        bool_or(l."ConvertedOpportunityId" is not null) as has_opportunity,
        bool_or(o."IsWon") as is_won,
        bool_or(l."Status" = 'Working - Contacted') as is_sal,
        bool_or(l."Nurture_Lead_Id__c" is not null) as is_mql
    from sf_lead as l
    left join sf_opportunity as o on o."Id" = l."ConvertedOpportunityId"
    where not l."IsDeleted"
    group by l.person_id
),
people as (
    select p.person_id, p.email, split_part(p.email, '@', 2) as email_domain,
        coalesce(m.job_title, p.title) as job_title, lower(coalesce(m.job_title, p.title)) as t,
        m.industry, m.number_of_employees, m.lead_source,
        coalesce(m.is_unsubscribed, false) as is_unsubscribed,
        coalesce(m.is_email_invalid, false) as is_email_invalid,
        coalesce(m.created_at, p.created_at) as created_at,
        coalesce(sf.is_converted, false) as is_converted,
        sf.has_opportunity, sf.is_won, sf.is_sal, sf.is_mql
    from persons as p
    left join mkto as m using (person_id)
    left join sf using (person_id)
)
select
    'lead-' || person_id as lead_id, email, email_domain, job_title,
    {seniority} as seniority,
    {department} as department,
    industry, number_of_employees,
    case
        when number_of_employees >= 5000 then '5000+'
        when number_of_employees >= 1000 then '1000-4999'
        when number_of_employees >= 250 then '250-999'
        when number_of_employees >= 50 then '50-249'
        when number_of_employees >= 1 then '1-49'
        else 'unknown'
    end as size_band,
    lead_source,
    case
        when is_won then 'customer'
        when has_opportunity then 'opportunity'
        when is_converted then 'sql'
        when is_sal then 'sal'
        when is_mql then 'mql'
        else 'lead'
    end as funnel_stage,
    is_converted, is_unsubscribed, is_email_invalid, false as is_deleted,
    created_at at time zone 'UTC' as created_at
from people
order by person_id
"""
EVENTS_SQL = """
select 'lead-' || m.person_id as lead_id, t.activity_type,
    a.new_status as program_status, a.channel, a.webpage_url,
    a.activity_date at time zone 'UTC' as occurred_at
from activities as a
inner join mkto_lead as m on m.id = a.lead_id
inner join seed as t on t.activity_type_id = a.activity_type_id
where t.is_touch
"""
HISTORY_SQL = """
select 'lead-' || person_id as lead_id,
    case when "IsConverted" then 'sql'
         when "Status" = 'Working - Contacted' then 'sal'
         when "Status" = 'Recycled' then 'recycled'
         when "Status" = 'Closed - Not Converted' then 'disqualified' end as stage,
    coalesce(cast("ConvertedDate" as timestamp), "SystemModstamp") at time zone 'UTC'
        as entered_at
from sf_lead
where not "IsDeleted" and person_id is not null
"""
DIM_LEAD_SQL = DIM_LEAD_SQL_TEMPLATE.format(
    seniority=_case(SENIORITY, "'unknown'", "'staff'"),
    department=_case(DEPARTMENT, "null", "null"),
)
TRUTH_SQL = "select 'lead-' || person_id as lead_id, propensity, converted from persons"

TABLES = {
    "marts.dim_lead": """lead_id varchar, email varchar, email_domain varchar,
        job_title varchar, seniority varchar, department varchar, industry varchar,
        number_of_employees bigint, size_band varchar, lead_source varchar,
        funnel_stage varchar, is_converted boolean, is_unsubscribed boolean,
        is_email_invalid boolean, is_deleted boolean, created_at timestamp with time zone""",
    "marts.fct_engagement_events": """lead_id varchar, activity_type varchar,
        program_status varchar, channel varchar, webpage_url varchar,
        occurred_at timestamp with time zone""",
    "intermediate.int_lifecycle_stage_history": """lead_id varchar, stage varchar,
        entered_at timestamp with time zone""",
}


def world_frames(world: Path) -> dict[str, pd.DataFrame]:
    """The three tables and the ground truth, as frames, from a world file."""
    con = duckdb.connect(str(world), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        seed = pd.read_csv(SEED_CSV)
        con.register("seed", seed)
        frames = {
            "marts.dim_lead": con.execute(DIM_LEAD_SQL).df(),
            "marts.fct_engagement_events": con.execute(EVENTS_SQL).df(),
            "intermediate.int_lifecycle_stage_history": con.execute(HISTORY_SQL)
            .df()
            .dropna(subset=["stage"]),
            "truth": con.execute(TRUTH_SQL).df(),
        }
    finally:
        con.close()
    return frames


def load_marts(settings, frames: dict[str, pd.DataFrame]) -> None:
    """Create the tables in the settings' warehouse and fill them from the frames."""
    warehouse = get_warehouse(settings)
    with warehouse.transaction() as session:
        for schema in ("marts", "intermediate", "ops"):
            session.execute(f"create schema if not exists {schema}")
        for table, columns in TABLES.items():
            session.execute(f"drop table if exists {table}")
            session.execute(f"create table {table} ({columns})")
            session.insert_frame(table, frames[table])
