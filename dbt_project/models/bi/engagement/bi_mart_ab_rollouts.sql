{{ config(alias='mart_ab_rollouts') }}

with

ab_rollouts as (

    select * from {{ ref('mart_ab_rollouts') }}

),

-- aggregates only: every column of the mart
final as (

    select
        ab_test_key,
        campaign_id,
        challenger_variant,
        winner,
        has_winner,
        rolled_out_variant,
        rolled_out_creative_id,
        rolled_out_content_type,
        last_send_date,
        test_ctr,
        test_overall_ctr,
        rollout_delivered,
        rollout_clicks,
        rollout_ctr,
        rollout_ctr_change,
        rollout_vs_test_overall_change

    from ab_rollouts

)

select * from final
