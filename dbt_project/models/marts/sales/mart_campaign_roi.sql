with

campaigns as (

    select * from {{ ref('dim_campaign') }}

),

programs as (

    select * from {{ ref('stg_marketo__programs') }}

),

sfdc_campaigns as (

    select * from {{ ref('stg_salesforce__campaigns') }}

),

engagement_events as (

    select * from {{ ref('fct_engagement_events') }}

),

funnel as (

    select * from {{ ref('int_lead_funnel_stages') }}

),

touch_credits as (

    select * from {{ ref('int_opportunity_touch_credits') }}

),

-- one row per Marketo program (dim_campaign has one per e-mail variant)
campaign_list as (

    select
        campaign_id,
        marketo_program_id,
        min(campaign_name) as campaign_name,
        coalesce(min(channel), 'other') as channel

    from campaigns
    where campaign_id is not null
    group by
        campaign_id,
        marketo_program_id

),

-- the Salesforce campaign a Marketo program syncs to carries the program's name
sfdc_costs as (

    select
        lower(trim(campaign_name)) as campaign_name_key,
        max(budgeted_cost) as sfdc_budgeted_cost,
        max(actual_cost) as sfdc_actual_cost

    from sfdc_campaigns
    where not is_deleted and campaign_name is not null
    group by lower(trim(campaign_name))

),

costed as (

    select
        campaign_list.campaign_id,
        campaign_list.campaign_name,
        campaign_list.channel,
        sfdc_costs.sfdc_budgeted_cost,
        sfdc_costs.sfdc_actual_cost,
        programs.period_cost as marketo_period_cost,
        -- Salesforce ActualCost when the campaign is synced, else Marketo's period costs
        coalesce(sfdc_costs.sfdc_actual_cost, programs.period_cost) as cost

    from campaign_list
    left join programs
        on campaign_list.marketo_program_id = programs.marketo_program_id
    left join sfdc_costs
        on lower(trim(campaign_list.campaign_name)) = sfdc_costs.campaign_name_key

),

-- campaign membership: the people the campaign touched, from their first touch
members as (

    select
        campaign_id,
        lead_id,
        min(occurred_at) as first_touched_at

    from engagement_events
    where campaign_id is not null and lead_id is not null
    group by
        campaign_id,
        lead_id

),

member_counts as (

    select
        members.campaign_id,
        count(*) as lead_count,
        -- MQLs the campaign can take credit for: qualified on or after its first touch
        sum(
            case when funnel.mql_at is not null and funnel.mql_at >= members.first_touched_at then 1 else 0 end
        ) as mql_count

    from members
    left join funnel
        on members.lead_id = funnel.lead_id
    group by members.campaign_id

),

-- won deals and revenue: the linear (equal-share) credits of the attribution model,
-- each credited touch traced to its campaign
credits as (

    select
        engagement_events.campaign_id,
        sum(case when touch_credits.is_won then 1.0 / touch_credits.touch_count else 0 end)
            as won_deal_credit,
        sum(touch_credits.linear_revenue) as won_revenue

    from touch_credits
    inner join engagement_events
        on touch_credits.event_id = engagement_events.event_id
    where engagement_events.campaign_id is not null
    group by engagement_events.campaign_id

),

per_campaign as (

    select
        costed.*,
        coalesce(member_counts.lead_count, 0) as lead_count,
        coalesce(member_counts.mql_count, 0) as mql_count,
        coalesce(credits.won_deal_credit, 0) as won_deal_credit,
        coalesce(credits.won_revenue, 0) as won_revenue

    from costed
    left join member_counts
        on costed.campaign_id = member_counts.campaign_id
    left join credits
        on costed.campaign_id = credits.campaign_id

),

channel_totals as (

    select
        channel,
        sum(cost) as channel_cost,
        sum(won_deal_credit) as channel_won_deal_credit,
        sum(won_revenue) as channel_won_revenue

    from per_campaign
    group by channel

),

final as (

    select
        per_campaign.campaign_id,
        per_campaign.campaign_name,
        per_campaign.channel,
        cast(per_campaign.sfdc_budgeted_cost as double precision) as sfdc_budgeted_cost,
        cast(per_campaign.sfdc_actual_cost as double precision) as sfdc_actual_cost,
        cast(per_campaign.marketo_period_cost as double precision) as marketo_period_cost,
        cast(per_campaign.cost as double precision) as cost,
        cast(per_campaign.lead_count as bigint) as lead_count,
        cast(per_campaign.mql_count as bigint) as mql_count,
        {{ stats_round('per_campaign.won_deal_credit', 6) }} as won_deal_credit,
        {{ stats_round('per_campaign.won_revenue', 2) }} as won_revenue,
        {{ stats_round(stats_ratio('per_campaign.cost', 'per_campaign.lead_count'), 2) }}
            as cost_per_lead,
        {{ stats_round(stats_ratio('per_campaign.cost', 'per_campaign.mql_count'), 2) }}
            as cost_per_mql,
        {{ stats_round(stats_ratio('per_campaign.cost', 'per_campaign.won_deal_credit'), 2) }}
            as cost_per_won_deal,
        {{ stats_round(stats_ratio('per_campaign.won_revenue - per_campaign.cost', 'per_campaign.cost'), 6) }}
            as roi,
        cast(channel_totals.channel_cost as double precision) as channel_cost,
        {{ stats_round('channel_totals.channel_won_revenue', 2) }} as channel_won_revenue,
        {{ stats_round(stats_ratio('channel_totals.channel_cost', 'channel_totals.channel_won_deal_credit'), 2) }}
            as channel_cost_per_won_deal,
        {{ stats_round(stats_ratio('channel_totals.channel_won_revenue - channel_totals.channel_cost', 'channel_totals.channel_cost'), 6) }}
            as channel_roi

    from per_campaign
    left join channel_totals
        on per_campaign.channel = channel_totals.channel

)

select * from final
