with

touch_credits as (

    select * from {{ ref('int_opportunity_touch_credits') }}

),

-- pipeline is credited in the month the opportunity was created, won revenue in the
-- month it was won
credits as (

    select
        cast({{ dbt.date_trunc('month', 'opportunity_created_at') }} as date) as attribution_month,
        channel,
        sfdc_opportunity_id,
        first_touch_pipeline,
        last_touch_pipeline,
        linear_pipeline,
        0.0 as first_touch_revenue,
        0.0 as last_touch_revenue,
        0.0 as linear_revenue

    from touch_credits

    union all

    select
        cast({{ dbt.date_trunc('month', 'opportunity_closed_at') }} as date) as attribution_month,
        channel,
        cast(null as {{ dbt.type_string() }}) as sfdc_opportunity_id,
        0.0 as first_touch_pipeline,
        0.0 as last_touch_pipeline,
        0.0 as linear_pipeline,
        first_touch_revenue,
        last_touch_revenue,
        linear_revenue

    from touch_credits
    where is_won
        and opportunity_closed_at is not null

),

final as (

    select
        attribution_month,
        channel,
        cast(count(distinct sfdc_opportunity_id) as bigint) as opportunity_count,
        cast(sum(first_touch_pipeline) as double precision) as first_touch_pipeline,
        cast(sum(last_touch_pipeline) as double precision) as last_touch_pipeline,
        cast(sum(linear_pipeline) as double precision) as linear_pipeline,
        cast(sum(first_touch_revenue) as double precision) as first_touch_revenue,
        cast(sum(last_touch_revenue) as double precision) as last_touch_revenue,
        cast(sum(linear_revenue) as double precision) as linear_revenue

    from credits
    group by
        attribution_month,
        channel

)

select * from final
