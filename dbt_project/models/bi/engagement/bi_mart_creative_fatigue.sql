{{ config(alias='mart_creative_fatigue') }}

with

creative_weeks as (

    select * from {{ ref('mart_creative_fatigue') }}

),

-- aggregates only: every column of the mart
final as (

    select
        creative_week_key,
        creative_id,
        launch_date,
        weeks_since_launch,
        week_start_date,
        delivered,
        unique_clicks,
        click_through_rate,
        baseline_ctr,
        baseline_delivered,
        has_min_sample,
        ctr_change_from_baseline,
        first_exposure_delivered,
        first_exposure_ctr,
        second_exposure_delivered,
        second_exposure_ctr,
        third_plus_exposure_delivered,
        third_plus_exposure_ctr,
        average_exposure_number,
        is_fatigued

    from creative_weeks

)

select * from final
