{{ config(alias='mart_campaign_roi') }}

with

source_mart as (

    select * from {{ ref('mart_campaign_roi') }}

),

-- aggregates only: no personal data to hash or drop
final as (

    select
        campaign_id,
        campaign_name,
        channel,
        sfdc_budgeted_cost,
        sfdc_actual_cost,
        marketo_period_cost,
        cost,
        lead_count,
        mql_count,
        won_deal_credit,
        won_revenue,
        cost_per_lead,
        cost_per_mql,
        cost_per_won_deal,
        roi,
        channel_cost,
        channel_won_revenue,
        channel_cost_per_won_deal,
        channel_roi

    from source_mart

)

select * from final
