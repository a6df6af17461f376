{%- set lookback_days = var('attribution_lookback_days') | int -%}
{%- set channels = var('nurture_channels') -%}

with

opportunities as (

    select * from {{ ref('int_opportunities_attributed') }}

),

engagement_events as (

    select * from {{ ref('fct_engagement_events') }}

),

live_opportunities as (

    select
        sfdc_opportunity_id,
        lead_id,
        created_at,
        closed_at,
        is_won,
        amount_at_creation,
        amount

    from opportunities
    where not is_deleted

),

-- the person's engagement touches (what the lead did: clicks, form fills, visits,
-- attendances, responses, answered calls; not sends, deliveries, bounces, opens or
-- unsubscribes: fct_engagement_events.is_engagement_touch, docs/kpis.md) on the nine
-- channels within the lookback window before the opportunity was created
-- (docs/design.md, "The marts": mart_channel_attribution)
touches as (

    select
        live_opportunities.sfdc_opportunity_id,
        engagement_events.event_id,
        engagement_events.channel,
        engagement_events.occurred_at,
        row_number() over (
            partition by live_opportunities.sfdc_opportunity_id
            order by engagement_events.occurred_at, engagement_events.event_id
        ) as touch_number,
        row_number() over (
            partition by live_opportunities.sfdc_opportunity_id
            order by engagement_events.occurred_at desc, engagement_events.event_id desc
        ) as touch_number_from_last,
        count(*) over (partition by live_opportunities.sfdc_opportunity_id) as touch_count

    from live_opportunities
    inner join engagement_events
        on live_opportunities.lead_id = engagement_events.lead_id
    where engagement_events.is_engagement_touch
        and engagement_events.occurred_at < live_opportunities.created_at
        and engagement_events.occurred_at
        >= {{ dbt.dateadd('day', -lookback_days, 'live_opportunities.created_at') }}
        and engagement_events.channel in ({% for channel in channels %}'{{ channel }}'{{ ', ' if not loop.last }}{% endfor %})

),

-- an opportunity without a touch in the window is credited whole to 'unattributed',
-- so the channels of a month add up to its pipeline and revenue
credited_touches as (

    select
        live_opportunities.sfdc_opportunity_id,
        coalesce(touches.event_id, 'unattributed:' || live_opportunities.sfdc_opportunity_id) as event_id,
        coalesce(touches.channel, 'unattributed') as channel,
        touches.occurred_at,
        coalesce(touches.touch_number, 1) as touch_number,
        coalesce(touches.touch_count, 1) as touch_count,
        case when coalesce(touches.touch_number, 1) = 1 then 1.0 else 0.0 end as first_touch_weight,
        case when coalesce(touches.touch_number_from_last, 1) = 1 then 1.0 else 0.0 end as last_touch_weight,
        1.0 / coalesce(touches.touch_count, 1) as linear_weight,
        live_opportunities.created_at as opportunity_created_at,
        live_opportunities.closed_at as opportunity_closed_at,
        live_opportunities.is_won,
        live_opportunities.amount_at_creation,
        case when live_opportunities.is_won then live_opportunities.amount else 0 end as won_amount

    from live_opportunities
    left join touches
        on live_opportunities.sfdc_opportunity_id = touches.sfdc_opportunity_id

),

final as (

    select
        sfdc_opportunity_id,
        event_id,
        channel,
        occurred_at,
        touch_number,
        touch_count,
        opportunity_created_at,
        opportunity_closed_at,
        is_won,
        cast(amount_at_creation as double precision) as pipeline_amount,
        cast(won_amount as double precision) as won_amount,
        cast(amount_at_creation * first_touch_weight as double precision) as first_touch_pipeline,
        cast(amount_at_creation * last_touch_weight as double precision) as last_touch_pipeline,
        cast(amount_at_creation * linear_weight as double precision) as linear_pipeline,
        cast(won_amount * first_touch_weight as double precision) as first_touch_revenue,
        cast(won_amount * last_touch_weight as double precision) as last_touch_revenue,
        cast(won_amount * linear_weight as double precision) as linear_revenue

    from credited_touches

)

select * from final
