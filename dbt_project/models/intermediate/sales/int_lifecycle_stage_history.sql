{#-
    Stage entries per person (docs/design.md, "Scoring and hand-off": lifecycle). Stages:
      lead         the person appears in any system (earliest created_at)
      mql          Nurture's scoring run flags it (scoring.fct_lead_scores, once per
                   cycle), or the hand-off reaches the SFA (a Salesforce lead carrying
                   Nurture_Lead_Id__c, or the hand-off's "Nurture MQL" Task on the
                   lead), or HubSpot shows marketingqualifiedlead
      sal          sales accepted it: lead status Working - Contacted; HubSpot
                   salesqualifiedlead (set by the hand-off loop on acceptance: HubSpot
                   has no SAL stage of its own; left out where the Salesforce lead's
                   field history dates the acceptance itself)
      recycled     sales sent it back to nurturing (status Recycled)
      disqualified sales rejected it (status Closed - Not Converted)
      sql          the lead was converted (ConvertedDate / Closed - Converted)
      opportunity  an opportunity of the person was created (HubSpot: opportunity)
      customer     an opportunity of the person was won (HubSpot: customer)
      closed_lost  an opportunity of the person was lost
    An imported outcome list (dropped files) adds customer (won) or opportunity and
    closed_lost (lost) on its outcome date for the leads of an imported lead list.
    Salesforce lead stages are dated by the Lead's field history (LeadHistory: each
    Status change and the hand-off, Nurture_Lead_Id__c set, when it was made). A lead
    without history rows (loaded before LeadHistory was synced) falls back: a verdict
    (sal, recycled, disqualified) on a handed-over lead is dated by sales' first
    completed Task on it after the hand-off, the action the MQL -> SAL SLA measures;
    otherwise by the snapshot version that shows it. Lead statuses and
    HubSpot stages come from the snapshots, so stages the sources have overwritten
    since stay in the history.
-#}
{#- source() outside `execute` so the parse records the dependency: the score-dependent
    rebuild after scoring selects this model with source:scoring+ -#}
{%- set scores_source = source('scoring', 'fct_lead_scores') -%}
{%- set scores_relation = load_relation(scores_source) if execute else none -%}

with

people as (

    select * from {{ ref('int_leads_identity_resolved') }}

),

lead_records as (

    select * from {{ ref('int_lead_records_unioned') }}

),

lead_status_versions as (

    select * from {{ ref('snap_salesforce_lead_statuses') }}

),

lifecycle_stage_versions as (

    select * from {{ ref('snap_hubspot_contact_lifecycle_stages') }}

),

tasks as (

    select * from {{ ref('stg_salesforce__tasks') }}

),

lead_histories as (

    select * from {{ ref('stg_salesforce__lead_histories') }}
    where not is_deleted

),

history_leads as (

    select distinct sfdc_lead_id from lead_histories

),

opportunities as (

    select * from {{ ref('int_opportunities_attributed') }}

),

-- deals won or lost by leads of imported lead lists (dropped outcome lists)
imported_outcomes as (

    select * from {{ ref('stg_files__outcomes') }}

),

{% if scores_relation is not none %}
lead_scores as (

    select
        cast(lead_id as {{ dbt.type_string() }}) as lead_id,
        cast(run_id as {{ dbt.type_string() }}) as run_id,
        cast(scored_at as timestamp) as scored_at,
        cast(is_mql as boolean) as is_mql

    from {{ scores_source }}

),
{% else %}
-- scoring has not run yet: no scores, the SFA hand-off is the MQL signal
lead_scores as (

    select
        cast(null as {{ dbt.type_string() }}) as lead_id,
        cast(null as {{ dbt.type_string() }}) as run_id,
        cast(null as timestamp) as scored_at,
        cast(null as boolean) as is_mql

    where 1 = 0

),
{% endif %}

sfdc_lead_people as (

    select
        source_record_id as sfdc_lead_id,
        lead_id

    from lead_records
    where source_system = 'salesforce'

),

hubspot_contact_people as (

    select
        source_record_id as hubspot_contact_id,
        lead_id

    from lead_records
    where source_system = 'hubspot'

),

created_entries as (

    select
        lead_id,
        'lead' as stage,
        'lead_created' as source_event,
        lead_id as source_record_id,
        created_at as entered_at

    from people

),

-- a new MQL cycle starts at a scoring run that flags the lead after one that did not
score_runs as (

    select
        lead_id,
        run_id,
        scored_at,
        is_mql,
        lag(is_mql) over (partition by lead_id order by scored_at, run_id) as was_mql

    from lead_scores

),

score_entries as (

    select
        lead_id,
        'mql' as stage,
        'scoring_run' as source_event,
        run_id as source_record_id,
        scored_at as entered_at

    from score_runs
    where is_mql
        and not coalesce(was_mql, false)

),

-- hand-off: Nurture upserts the lead (Nurture_Lead_Id__c); a lead that existed in an
-- earlier snapshot version without the id was handed over when the id appeared
handoff_versions as (

    select
        sfdc_lead_id,
        min(created_at) as created_at,
        min(case when nurture_lead_id is not null then updated_at end) as first_flagged_at,
        max(case when nurture_lead_id is null then 1 else 0 end) = 1 as was_unflagged

    from lead_status_versions
    group by sfdc_lead_id
    having max(case when nurture_lead_id is not null then 1 else 0 end) = 1

),

-- the field history dates the hand-off exactly: Nurture_Lead_Id__c set on an existing
-- lead, else the creation of a lead the hand-off created
history_handoffs as (

    select
        sfdc_lead_id,
        min(case when field_name = 'Nurture_Lead_Id__c' and new_value is not null then changed_at end)
            as flagged_at,
        min(case when field_name = 'created' then changed_at end) as created_at

    from lead_histories
    group by sfdc_lead_id

),

handoffs as (

    select
        sfdc_lead_people.lead_id,
        handoff_versions.sfdc_lead_id,
        coalesce(
            history_handoffs.flagged_at,
            history_handoffs.created_at,
            case
                when handoff_versions.was_unflagged then handoff_versions.first_flagged_at
                else coalesce(handoff_versions.created_at, handoff_versions.first_flagged_at)
            end
        ) as handed_over_at

    from handoff_versions
    inner join sfdc_lead_people
        on handoff_versions.sfdc_lead_id = sfdc_lead_people.sfdc_lead_id
    left join history_handoffs
        on handoff_versions.sfdc_lead_id = history_handoffs.sfdc_lead_id

),

-- the hand-off also leaves its Task on the lead (Subject "Nurture MQL: ..."), which
-- dates hand-offs made before the lead carried Nurture_Lead_Id__c
task_handoffs as (

    select
        sfdc_lead_people.lead_id,
        tasks.sfdc_who_id as sfdc_lead_id,
        min(tasks.created_at) as handed_over_at

    from tasks
    inner join sfdc_lead_people
        on tasks.sfdc_who_id = sfdc_lead_people.sfdc_lead_id
    where not tasks.is_deleted
        and tasks.subject like 'Nurture MQL:%'
    group by
        sfdc_lead_people.lead_id,
        tasks.sfdc_who_id

),

handoff_entries as (

    select
        lead_id,
        'mql' as stage,
        'sfdc_handoff' as source_event,
        sfdc_lead_id as source_record_id,
        handed_over_at as entered_at

    from handoffs

    union all

    select
        lead_id,
        'mql' as stage,
        'sfdc_handoff' as source_event,
        sfdc_lead_id as source_record_id,
        handed_over_at as entered_at

    from task_handoffs

),

-- sales' first action on a handed-over lead: its first completed Task after the hand-off
first_actions as (

    select
        handoffs.sfdc_lead_id,
        min(tasks.created_at) as first_action_at

    from handoffs
    inner join tasks
        on handoffs.sfdc_lead_id = tasks.sfdc_who_id
    where not tasks.is_deleted
        and tasks.task_status = 'Completed'
        and tasks.created_at >= handoffs.handed_over_at
    group by handoffs.sfdc_lead_id

),

status_versions as (

    select
        lead_status_versions.sfdc_lead_id,
        sfdc_lead_people.lead_id,
        case
            when lead_status_versions.is_converted or lead_status_versions.lead_status = 'Closed - Converted'
                then 'sql'
            when lead_status_versions.lead_status = 'Working - Contacted' then 'sal'
            when lead_status_versions.lead_status = 'Recycled' then 'recycled'
            when lead_status_versions.lead_status = 'Closed - Not Converted' then 'disqualified'
        end as stage,
        lead_status_versions.converted_date,
        lead_status_versions.updated_at,
        lead_status_versions.dbt_scd_id

    from lead_status_versions
    inner join sfdc_lead_people
        on lead_status_versions.sfdc_lead_id = sfdc_lead_people.sfdc_lead_id

),

status_entries as (

    select
        status_versions.lead_id,
        status_versions.stage,
        case when status_versions.stage = 'sql' then 'sfdc_lead_converted' else 'sfdc_lead_status' end
            as source_event,
        status_versions.sfdc_lead_id as source_record_id,
        case
            when status_versions.stage = 'sql'
                then coalesce(cast(status_versions.converted_date as timestamp), status_versions.updated_at)
            else coalesce(first_actions.first_action_at, status_versions.updated_at)
        end as entered_at

    from status_versions
    left join first_actions
        on status_versions.sfdc_lead_id = first_actions.sfdc_lead_id
    where status_versions.stage is not null
        and status_versions.sfdc_lead_id not in (select history_leads.sfdc_lead_id from history_leads)

),

-- each Status change in the Lead's field history, when it was made
history_entries as (

    select
        sfdc_lead_people.lead_id,
        case lead_histories.new_value
            when 'Closed - Converted' then 'sql'
            when 'Working - Contacted' then 'sal'
            when 'Recycled' then 'recycled'
            when 'Closed - Not Converted' then 'disqualified'
        end as stage,
        case when lead_histories.new_value = 'Closed - Converted' then 'sfdc_lead_converted' else 'sfdc_lead_status' end
            as source_event,
        lead_histories.sfdc_lead_id as source_record_id,
        lead_histories.changed_at as entered_at

    from lead_histories
    inner join sfdc_lead_people
        on lead_histories.sfdc_lead_id = sfdc_lead_people.sfdc_lead_id
    where lead_histories.field_name = 'Status'
        and lead_histories.new_value in (
            'Closed - Converted', 'Working - Contacted', 'Recycled', 'Closed - Not Converted'
        )

),

hubspot_entries as (

    select
        hubspot_contact_people.lead_id,
        case lifecycle_stage_versions.lifecycle_stage
            when 'marketingqualifiedlead' then 'mql'
            when 'salesqualifiedlead' then 'sal'
            when 'opportunity' then 'opportunity'
            when 'customer' then 'customer'
        end as stage,
        'hubspot_lifecycle_stage' as source_event,
        lifecycle_stage_versions.hubspot_contact_id as source_record_id,
        lifecycle_stage_versions.updated_at as entered_at

    from lifecycle_stage_versions
    inner join hubspot_contact_people
        on lifecycle_stage_versions.hubspot_contact_id = hubspot_contact_people.hubspot_contact_id
    where lifecycle_stage_versions.lifecycle_stage in (
        'marketingqualifiedlead', 'salesqualifiedlead', 'opportunity', 'customer'
    )

),

-- people whose Salesforce lead has field history: its Status changes date their SAL
-- to the second, so HubSpot's mirror of acceptance (dated by the sync that saw it) is
-- left out for them
history_people as (

    select distinct sfdc_lead_people.lead_id

    from sfdc_lead_people
    inner join history_leads
        on sfdc_lead_people.sfdc_lead_id = history_leads.sfdc_lead_id

),

opportunity_entries as (

    select
        lead_id,
        'opportunity' as stage,
        'opportunity_created' as source_event,
        sfdc_opportunity_id as source_record_id,
        created_at as entered_at

    from opportunities
    where lead_id is not null
        and not is_deleted

    union all

    select
        lead_id,
        case when is_won then 'customer' else 'closed_lost' end as stage,
        case when is_won then 'opportunity_won' else 'opportunity_lost' end as source_event,
        sfdc_opportunity_id as source_record_id,
        closed_at as entered_at

    from opportunities
    where lead_id is not null
        and not is_deleted
        and is_closed

),

-- an imported won deal makes its lead a customer on the outcome date, a lost one ends
-- it closed lost; the lead list's own key finds the person. A lost deal was an
-- opportunity too: the list has no date for it, so it is dated by the outcome (for a
-- won deal the opportunity stays implied by the win, and undated, so that it never
-- counts zero days in the opportunity -> won median).
imported_outcome_stages as (

    select 'customer' as stage, true as is_won
    union all
    select 'opportunity' as stage, false as is_won
    union all
    select 'closed_lost' as stage, false as is_won

),

imported_outcome_entries as (

    select
        lead_records.lead_id,
        imported_outcome_stages.stage,
        case when imported_outcomes.is_won then 'imported_outcome_won' else 'imported_outcome_lost' end
            as source_event,
        imported_outcomes.imported_outcome_id as source_record_id,
        imported_outcomes.outcome_at as entered_at

    from imported_outcomes
    inner join imported_outcome_stages
        on imported_outcome_stages.is_won = imported_outcomes.is_won
    inner join lead_records
        on lead_records.source_system = 'imported_lead'
        and lead_records.source_record_id = imported_outcomes.imported_lead_key

),

entries as (

    select * from created_entries
    union all
    select * from score_entries
    union all
    select * from handoff_entries
    union all
    select * from status_entries
    union all
    select * from history_entries
    union all
    select * from hubspot_entries
    where stage <> 'sal'
        or lead_id not in (select history_people.lead_id from history_people)
    union all
    select * from opportunity_entries
    union all
    select * from imported_outcome_entries

),

-- one entry per (lead, stage, source event, record, time): snapshot versions that
-- repeat a status at the same time collapse
deduplicated as (

    select
        lead_id,
        stage,
        source_event,
        source_record_id,
        entered_at,
        row_number() over (
            partition by lead_id, stage, source_event, source_record_id, entered_at
            order by lead_id
        ) as duplicate_rank

    from entries
    where entered_at is not null
        and lead_id is not null

),

ordered as (

    select
        lead_id,
        stage,
        case stage
            when 'lead' then 1
            when 'mql' then 2
            when 'sal' then 3
            when 'recycled' then 3
            when 'disqualified' then 3
            when 'sql' then 4
            when 'opportunity' then 5
            when 'customer' then 6
            when 'closed_lost' then 6
        end as stage_order,
        stage in ('lead', 'mql', 'sal', 'sql', 'opportunity', 'customer') as is_funnel_stage,
        source_event,
        source_record_id,
        entered_at

    from deduplicated
    where duplicate_rank = 1

),

final as (

    select
        {{ dbt.hash(dbt.concat(["lead_id", "'|'", "stage", "'|'", "source_event", "'|'", "source_record_id", "'|'", "cast(entered_at as " ~ dbt.type_string() ~ ")"])) }}
            as stage_entry_id,
        lead_id,
        stage,
        stage_order,
        is_funnel_stage,
        source_event,
        source_record_id,
        entered_at,
        row_number() over (
            partition by lead_id
            order by entered_at, stage_order, source_event, source_record_id
        ) as stage_sequence

    from ordered

)

select * from final
