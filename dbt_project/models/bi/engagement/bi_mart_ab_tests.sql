{{ config(alias='mart_ab_tests') }}

with

ab_tests as (

    select * from {{ ref('mart_ab_tests') }}

),

-- aggregates only: every column of the mart
final as (

    select
        ab_test_key,
        campaign_id,
        control_variant,
        challenger_variant,
        control_marketo_email_id,
        challenger_marketo_email_id,
        control_creative_id,
        challenger_creative_id,
        control_content_type,
        challenger_content_type,
        first_send_date,
        last_send_date,
        control_delivered,
        control_clicks,
        control_ctr,
        challenger_delivered,
        challenger_clicks,
        challenger_ctr,
        ctr_difference,
        lift,
        ctr_difference_ci_lower,
        ctr_difference_ci_upper,
        z_score,
        p_value,
        adjusted_p_value,
        is_significant,
        is_significant_adjusted,
        has_min_sample,
        winner,
        is_content_type_test,
        winning_content_type

    from ab_tests

)

select * from final
