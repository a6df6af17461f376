{%- set rollout_days = var('ab_rollout_days') | int -%}

with

ab_tests as (

    select * from {{ ref('mart_ab_tests') }}

),

email_sends as (

    select * from {{ ref('int_email_sends') }}

),

-- the variant that is rolled out: the winner, or when the test is inconclusive the
-- variant with the higher CTR (what a team that "goes with the leader" rolls out)
leaders as (

    select
        ab_test_key,
        campaign_id,
        challenger_variant,
        winner,
        last_send_date,
        case
            when winner = challenger_variant then challenger_variant
            when winner = control_variant then control_variant
            when challenger_ctr > control_ctr then challenger_variant
            else control_variant
        end as rolled_out_variant,
        case
            when winner = challenger_variant then challenger_creative_id
            when winner = control_variant then control_creative_id
            when challenger_ctr > control_ctr then challenger_creative_id
            else control_creative_id
        end as rolled_out_creative_id,
        case
            when winner = challenger_variant then challenger_content_type
            when winner = control_variant then control_content_type
            when challenger_ctr > control_ctr then challenger_content_type
            else control_content_type
        end as rolled_out_content_type,
        case
            when winner = challenger_variant then challenger_ctr
            when winner = control_variant then control_ctr
            when challenger_ctr > control_ctr then challenger_ctr
            else control_ctr
        end as test_ctr,
        {{ stats_ratio('control_clicks + challenger_clicks', 'control_delivered + challenger_delivered') }}
            as test_overall_ctr

    from ab_tests

),

-- the rolled-out creative's deliveries by other programs after the test, within
-- ab_rollout_days of its last send
rollout as (

    select
        leaders.ab_test_key,
        count(*) as rollout_delivered,
        sum(case when email_sends.is_clicked then 1 else 0 end) as rollout_clicks

    from leaders
    inner join email_sends
        on
            email_sends.creative_id = leaders.rolled_out_creative_id
            and email_sends.campaign_id <> leaders.campaign_id
            and email_sends.is_delivered
            and email_sends.send_date > leaders.last_send_date
            and email_sends.send_date
            <= {{ dbt.dateadd('day', rollout_days, 'leaders.last_send_date') }}
    group by leaders.ab_test_key

),

final as (

    select
        leaders.ab_test_key,
        leaders.campaign_id,
        leaders.challenger_variant,
        leaders.winner,
        leaders.winner <> 'inconclusive' as has_winner,
        leaders.rolled_out_variant,
        leaders.rolled_out_creative_id,
        leaders.rolled_out_content_type,
        leaders.last_send_date,
        {{ stats_round('leaders.test_ctr', 6) }} as test_ctr,
        {{ stats_round('leaders.test_overall_ctr', 6) }} as test_overall_ctr,
        cast(coalesce(rollout.rollout_delivered, 0) as bigint) as rollout_delivered,
        cast(coalesce(rollout.rollout_clicks, 0) as bigint) as rollout_clicks,
        {{ stats_round(stats_ratio('rollout.rollout_clicks', 'rollout.rollout_delivered'), 6) }}
            as rollout_ctr,
        {{ stats_round(
            stats_ratio('rollout.rollout_clicks', 'rollout.rollout_delivered')
            ~ ' / nullif(leaders.test_ctr, 0) - 1', 6) }} as rollout_ctr_change,
        {{ stats_round(
            stats_ratio('rollout.rollout_clicks', 'rollout.rollout_delivered')
            ~ ' / nullif(leaders.test_overall_ctr, 0) - 1', 6) }} as rollout_vs_test_overall_change

    from leaders
    left join rollout
        on leaders.ab_test_key = rollout.ab_test_key

)

select * from final
