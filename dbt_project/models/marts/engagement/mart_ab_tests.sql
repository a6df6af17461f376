{%- set min_sample = var('ab_min_sample') | int -%}
{%- set significance_level = var('ab_significance_level') -%}

with

campaign_performance as (

    select * from {{ ref('mart_campaign_performance') }}

),

-- every run of a test's variant counts: one row per program x variant
variants as (

    select
        campaign_id,
        variant,
        min(marketo_email_id) as marketo_email_id,
        min(creative_id) as creative_id,
        min(content_type) as content_type,
        min(send_date) as first_send_date,
        max(send_date) as last_send_date,
        sum(delivered) as delivered,
        sum(unique_clicks) as unique_clicks

    from campaign_performance
    where campaign_id is not null and variant <> 'none'
    group by
        campaign_id,
        variant

),

-- variant A is the control; every other variant is a challenger against it
pairs as (

    select
        control.campaign_id,
        control.variant as control_variant,
        challenger.variant as challenger_variant,
        control.marketo_email_id as control_marketo_email_id,
        challenger.marketo_email_id as challenger_marketo_email_id,
        control.creative_id as control_creative_id,
        challenger.creative_id as challenger_creative_id,
        control.content_type as control_content_type,
        challenger.content_type as challenger_content_type,
        case
            when control.first_send_date < challenger.first_send_date then control.first_send_date
            else challenger.first_send_date
        end as first_send_date,
        case
            when control.last_send_date > challenger.last_send_date then control.last_send_date
            else challenger.last_send_date
        end as last_send_date,
        control.delivered as control_delivered,
        control.unique_clicks as control_clicks,
        challenger.delivered as challenger_delivered,
        challenger.unique_clicks as challenger_clicks

    from variants as control
    inner join variants as challenger
        on
            control.campaign_id = challenger.campaign_id
            and challenger.variant <> control.variant
    where control.variant = 'A'

),

rates as (

    select
        *,
        {{ stats_ratio('control_clicks', 'control_delivered') }} as control_ctr,
        {{ stats_ratio('challenger_clicks', 'challenger_delivered') }} as challenger_ctr,
        {{ stats_ratio('control_clicks + challenger_clicks', 'control_delivered + challenger_delivered') }}
            as pooled_ctr

    from pairs

),

-- two-proportion z-test (pooled standard error) and a Wald 95% interval of the
-- difference (unpooled standard error)
tested as (

    select
        *,
        challenger_ctr - control_ctr as ctr_difference,
        (challenger_ctr - control_ctr) / nullif(control_ctr, 0) as lift,
        sqrt(
            control_ctr * (1 - control_ctr) / nullif(control_delivered, 0)
            + challenger_ctr * (1 - challenger_ctr) / nullif(challenger_delivered, 0)
        ) as difference_standard_error,
        (challenger_ctr - control_ctr) / nullif(
            sqrt(
                pooled_ctr * (1 - pooled_ctr)
                * (1.0 / nullif(control_delivered, 0) + 1.0 / nullif(challenger_delivered, 0))
            ),
            0
        ) as z_score

    from rates

),

scored as (

    select
        *,
        {{ stats_two_sided_p_value('z_score') }} as p_value,
        control_delivered >= {{ min_sample }} and challenger_delivered >= {{ min_sample }}
            as has_min_sample

    from tested

),

-- Holm's step-down correction for testing many A/B tests at once (family-wise error
-- rate at ab_significance_level). The family: every test with a p-value whose arms
-- both reached ab_min_sample (the others can never declare a winner). With the family's
-- p-values in ascending order p(1) <= ... <= p(m), the adjusted p(i) is
-- min(1, max over j <= i of (m - j + 1) * p(j)).
family as (

    select
        campaign_id,
        challenger_variant,
        p_value,
        (
            count(*) over ()
            - row_number() over (order by p_value, campaign_id, challenger_variant)
            + 1
        ) * p_value as holm_step

    from scored
    where has_min_sample and p_value is not null

),

holm as (

    select
        campaign_id,
        challenger_variant,
        case when step_max > 1 then 1.0 else step_max end as adjusted_p_value

    from (
        select
            campaign_id,
            challenger_variant,
            max(holm_step) over (
                order by p_value, campaign_id, challenger_variant
                rows between unbounded preceding and current row
            ) as step_max

        from family
    ) as stepped

),

adjusted as (

    select
        scored.*,
        holm.adjusted_p_value

    from scored
    left join holm
        on
            scored.campaign_id = holm.campaign_id
            and scored.challenger_variant = holm.challenger_variant

),

final as (

    select
        {{ dbt.hash("campaign_id || ':' || challenger_variant") }} as ab_test_key,
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
        cast(control_delivered as bigint) as control_delivered,
        cast(control_clicks as bigint) as control_clicks,
        {{ stats_round('control_ctr', 6) }} as control_ctr,
        cast(challenger_delivered as bigint) as challenger_delivered,
        cast(challenger_clicks as bigint) as challenger_clicks,
        {{ stats_round('challenger_ctr', 6) }} as challenger_ctr,
        {{ stats_round('ctr_difference', 6) }} as ctr_difference,
        {{ stats_round('lift', 6) }} as lift,
        {{ stats_round('ctr_difference - 1.959963984540054 * difference_standard_error', 6) }}
            as ctr_difference_ci_lower,
        {{ stats_round('ctr_difference + 1.959963984540054 * difference_standard_error', 6) }}
            as ctr_difference_ci_upper,
        {{ stats_round('z_score', 6) }} as z_score,
        {{ stats_round('p_value', 6) }} as p_value,
        {{ stats_round('adjusted_p_value', 6) }} as adjusted_p_value,
        coalesce(p_value < {{ significance_level }}, false) as is_significant,
        coalesce(adjusted_p_value < {{ significance_level }}, false) as is_significant_adjusted,
        coalesce(has_min_sample, false) as has_min_sample,
        -- a winner only when significant after Holm's correction, which needs both
        -- variants to have reached ab_min_sample
        case
            when adjusted_p_value < {{ significance_level }}
                then case when ctr_difference > 0 then challenger_variant else control_variant end
            else 'inconclusive'
        end as winner,
        -- the arms carry different content types: the test compares content types
        coalesce(control_content_type <> challenger_content_type, false) as is_content_type_test,
        case
            when adjusted_p_value < {{ significance_level }}
                then case when ctr_difference > 0 then challenger_content_type else control_content_type end
        end as winning_content_type

    from adjusted

)

select * from final
