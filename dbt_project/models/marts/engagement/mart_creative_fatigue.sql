{%- set ctr_drop = var('creative_fatigue_ctr_drop') -%}
{%- set min_sample = var('creative_fatigue_min_weekly_sample') | int -%}

with

email_sends as (

    select * from {{ ref('int_email_sends') }}

),

delivered_sends as (

    select
        creative_id,
        send_date,
        creative_exposure_number,
        case when is_clicked then 1 else 0 end as is_clicked

    from email_sends
    where is_delivered and creative_id is not null

),

creative_launches as (

    select
        creative_id,
        min(send_date) as launch_date

    from delivered_sends
    group by creative_id

),

-- weeks since the creative's first delivery: week 0 is its launch week
weekly as (

    select
        delivered_sends.creative_id,
        creative_launches.launch_date,
        cast(
            floor(
                cast({{ dbt.datediff('creative_launches.launch_date', 'delivered_sends.send_date', 'day') }}
                as double precision) / 7
            ) as bigint
        ) as weeks_since_launch,
        delivered_sends.creative_exposure_number,
        delivered_sends.is_clicked

    from delivered_sends
    inner join creative_launches
        on delivered_sends.creative_id = creative_launches.creative_id

),

aggregated as (

    select
        creative_id,
        launch_date,
        weeks_since_launch,
        count(*) as delivered,
        sum(is_clicked) as unique_clicks,
        sum(case when creative_exposure_number = 1 then 1 else 0 end) as first_exposure_delivered,
        sum(case when creative_exposure_number = 1 then is_clicked else 0 end) as first_exposure_clicks,
        sum(case when creative_exposure_number = 2 then 1 else 0 end) as second_exposure_delivered,
        sum(case when creative_exposure_number = 2 then is_clicked else 0 end) as second_exposure_clicks,
        sum(case when creative_exposure_number >= 3 then 1 else 0 end) as third_plus_exposure_delivered,
        sum(case when creative_exposure_number >= 3 then is_clicked else 0 end) as third_plus_exposure_clicks,
        avg(cast(creative_exposure_number as double precision)) as average_exposure_number

    from weekly
    group by
        creative_id,
        launch_date,
        weeks_since_launch

),

-- the baseline: the creative's CTR over its first two weeks (weeks 0 and 1)
baselines as (

    select
        creative_id,
        {{ stats_ratio('sum(unique_clicks)', 'sum(delivered)') }} as baseline_ctr,
        sum(delivered) as baseline_delivered

    from aggregated
    where weeks_since_launch < 2
    group by creative_id

),

measured as (

    select
        aggregated.*,
        {{ stats_ratio('aggregated.unique_clicks', 'aggregated.delivered') }} as click_through_rate,
        baselines.baseline_ctr,
        baselines.baseline_delivered

    from aggregated
    left join baselines
        on aggregated.creative_id = baselines.creative_id

),

final as (

    select
        {{ dbt.hash(dbt.concat([
            "cast(creative_id as " ~ dbt.type_string() ~ ")",
            "':'",
            "cast(weeks_since_launch as " ~ dbt.type_string() ~ ")",
        ])) }} as creative_week_key,
        creative_id,
        launch_date,
        weeks_since_launch,
        cast({{ dbt.dateadd('day', '7 * weeks_since_launch', 'launch_date') }} as date) as week_start_date,
        cast(delivered as bigint) as delivered,
        cast(unique_clicks as bigint) as unique_clicks,
        {{ stats_round('click_through_rate', 6) }} as click_through_rate,
        {{ stats_round('baseline_ctr', 6) }} as baseline_ctr,
        cast(baseline_delivered as bigint) as baseline_delivered,
        coalesce(
            delivered >= {{ min_sample }} and baseline_delivered >= {{ min_sample }}, false
        ) as has_min_sample,
        {{ stats_round('click_through_rate / nullif(baseline_ctr, 0) - 1', 6) }} as ctr_change_from_baseline,
        cast(first_exposure_delivered as bigint) as first_exposure_delivered,
        {{ stats_round(stats_ratio('first_exposure_clicks', 'first_exposure_delivered'), 6) }}
            as first_exposure_ctr,
        cast(second_exposure_delivered as bigint) as second_exposure_delivered,
        {{ stats_round(stats_ratio('second_exposure_clicks', 'second_exposure_delivered'), 6) }}
            as second_exposure_ctr,
        cast(third_plus_exposure_delivered as bigint) as third_plus_exposure_delivered,
        {{ stats_round(stats_ratio('third_plus_exposure_clicks', 'third_plus_exposure_delivered'), 6) }}
            as third_plus_exposure_ctr,
        {{ stats_round('average_exposure_number', 6) }} as average_exposure_number,
        -- fatigued: after the baseline weeks, CTR at least creative_fatigue_ctr_drop
        -- below the first two weeks' CTR (docs/kpis.md: rotate the creative), judged only
        -- when the week and the baseline both have creative_fatigue_min_weekly_sample
        -- deliveries (a week of a handful of sends says nothing)
        coalesce(
            weeks_since_launch >= 2
            and delivered >= {{ min_sample }}
            and baseline_delivered >= {{ min_sample }}
            and baseline_ctr > 0
            and {{ stats_round('click_through_rate / nullif(baseline_ctr, 0)', 9) }} <= 1 - {{ ctr_drop }},
            false
        ) as is_fatigued

    from measured

)

select * from final
