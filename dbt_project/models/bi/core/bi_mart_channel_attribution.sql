{{ config(alias='mart_channel_attribution') }}

with

source_mart as (

    select * from {{ ref('mart_channel_attribution') }}

),

-- aggregates only: no personal data to hash or drop
final as (

    select
        attribution_month,
        channel,
        opportunity_count,
        first_touch_pipeline,
        last_touch_pipeline,
        linear_pipeline,
        first_touch_revenue,
        last_touch_revenue,
        linear_revenue

    from source_mart

)

select * from final
