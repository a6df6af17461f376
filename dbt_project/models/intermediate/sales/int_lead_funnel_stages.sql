{%- set sla_hours = var('mql_sla_hours') | float -%}
{%- set lead_source_channels = var('lead_source_channels') -%}
{%- set channels = var('nurture_channels') -%}

with

people as (

    select * from {{ ref('int_leads_identity_resolved') }}

),

stage_history as (

    select * from {{ ref('int_lifecycle_stage_history') }}

),

engagement_events as (

    select * from {{ ref('fct_engagement_events') }}

),

salesforce_leads as (

    select * from {{ ref('stg_salesforce__leads') }}

),

-- what the warehouse knows of sales' actions reaches up to the newest SFA change it
-- loaded, on the SFA's own clock (the one stage times use), not the loader's
data_as_of as (

    select max(updated_at) as as_of_at

    from salesforce_leads

),

first_touches as (

    select
        lead_id,
        channel,
        row_number() over (partition by lead_id order by occurred_at, event_id) as touch_rank

    from engagement_events
    where lead_id is not null
        and channel in ({% for channel in channels %}'{{ channel }}'{{ ', ' if not loop.last }}{% endfor %})

),

-- first entry of each stage; a later funnel stage implies the earlier ones (a lead
-- sales created and converted never was an MQL, yet it passed that step)
stage_firsts as (

    select
        lead_id,
        min(case when stage = 'mql' then entered_at end) as mql_at,
        min(case when stage = 'sal' then entered_at end) as sal_at,
        min(case when stage = 'sql' then entered_at end) as sql_at,
        min(case when stage = 'opportunity' then entered_at end) as opportunity_at,
        min(case when stage = 'customer' then entered_at end) as won_at,
        -- sales' process started: the first verdict or later stage
        min(case when stage_order >= 3 then entered_at end) as first_sales_stage_at,
        -- the MQL reached the SFA (the hand-off), which starts the MQL -> SAL SLA clock
        min(case when source_event = 'sfdc_handoff' then entered_at end) as handed_over_at,
        max(case when is_funnel_stage then stage_order end) as furthest_stage_order

    from stage_history
    group by lead_id

),

-- sales' first action after the hand-off: the first verdict or later stage
first_actions as (

    select
        stage_history.lead_id,
        min(stage_history.entered_at) as first_action_at

    from stage_history
    inner join stage_firsts
        on stage_history.lead_id = stage_firsts.lead_id
    where stage_history.stage_order >= 3
        and stage_history.entered_at >= stage_firsts.handed_over_at
    group by stage_history.lead_id

),

-- the latest entry is the current stage (exits included: recycled, disqualified, closed_lost)
current_stages as (

    select
        lead_id,
        stage,
        entered_at,
        row_number() over (partition by lead_id order by stage_sequence desc) as recency_rank

    from stage_history

),

joined as (

    select
        people.lead_id,
        people.created_at,
        people.lead_source,
        first_touches.channel as first_touch_channel,
        -- a lead that reached a sales stage passed MQL no later than that: an MQL
        -- entry after it (a scoring run flagging a lead sales already work) or none
        -- leaves the MQL dated by the first sales stage (observed = false)
        case
            when stage_firsts.mql_at <= coalesce(stage_firsts.first_sales_stage_at, stage_firsts.mql_at)
                then stage_firsts.mql_at
            else coalesce(stage_firsts.first_sales_stage_at, stage_firsts.mql_at)
        end as mql_at,
        coalesce(
            stage_firsts.mql_at <= coalesce(stage_firsts.first_sales_stage_at, stage_firsts.mql_at),
            false
        ) as is_mql_at_observed,
        stage_firsts.handed_over_at,
        stage_firsts.sal_at,
        stage_firsts.sql_at,
        stage_firsts.opportunity_at,
        stage_firsts.won_at,
        coalesce(stage_firsts.furthest_stage_order, 1) as furthest_stage_order,
        current_stages.stage as current_stage,
        current_stages.entered_at as current_stage_entered_at,
        first_actions.first_action_at,
        data_as_of.as_of_at

    from people
    cross join data_as_of
    left join stage_firsts
        on people.lead_id = stage_firsts.lead_id
    left join first_touches
        on
            people.lead_id = first_touches.lead_id
            and first_touches.touch_rank = 1
    left join first_actions
        on people.lead_id = first_actions.lead_id
    left join current_stages
        on
            people.lead_id = current_stages.lead_id
            and current_stages.recency_rank = 1
    where not people.is_deleted

),

final as (

    select
        lead_id,
        cast({{ dbt.date_trunc('month', 'created_at') }} as date) as cohort_month,
        -- the lead source's channel (var lead_source_channels), else the first touch's
        coalesce(
            case lead_source
                {%- for source, channel in lead_source_channels.items() %}
                when '{{ source }}' then '{{ channel }}'
                {%- endfor %}
            end,
            first_touch_channel,
            'other'
        ) as source_channel,
        coalesce(current_stage, 'lead') as current_stage,
        current_stage_entered_at,
        created_at,
        case when furthest_stage_order >= 2 then mql_at end as mql_at,
        furthest_stage_order >= 2 and is_mql_at_observed as is_mql_at_observed,
        handed_over_at,
        sal_at,
        sql_at,
        opportunity_at,
        won_at,
        furthest_stage_order >= 2 as is_mql,
        furthest_stage_order >= 3 as is_sal,
        furthest_stage_order >= 4 as is_sql,
        furthest_stage_order >= 5 as is_opportunity,
        furthest_stage_order >= 6 as is_won,
        first_action_at,
        {{ sales_hours_between('handed_over_at', 'first_action_at') }} as hours_to_first_action,
        -- MQL -> SAL SLA (var mql_sla_hours), from the hand-off to the SFA: met when
        -- sales acted within it; breached when they acted later or the deadline passed
        -- with no action by the latest SFA load; pending (null) while the deadline is
        -- still ahead. An MQL never handed to sales has no SLA.
        case
            when handed_over_at is null then null
            when first_action_at is not null
                then {{ sales_hours_between('handed_over_at', 'first_action_at') }} <= {{ sla_hours }}
            when {{ sales_hours_between('handed_over_at', 'as_of_at') }} > {{ sla_hours }} then false
        end as is_sla_met,
        case
            when furthest_stage_order < 2 then 'not_mql'
            when handed_over_at is null then 'not_handed_over'
            when first_action_at is not null
                and {{ sales_hours_between('handed_over_at', 'first_action_at') }} <= {{ sla_hours }}
                then 'met'
            when first_action_at is not null then 'breached'
            when {{ sales_hours_between('handed_over_at', 'as_of_at') }} > {{ sla_hours }} then 'breached'
            else 'pending'
        end as sla_status

    from joined

)

select * from final
