{#- (from, to, from time, to time, condition): the medians around MQL take observed MQL
    dates only (one implied by a later stage is that stage's date, which would count
    zero days); MQL -> SAL runs from the hand-off to sales when there was one -#}
{%- set stage_pairs = [
    ('lead', 'mql', 'created_at', 'mql_at', 'is_mql_at_observed'),
    ('mql', 'sal', 'coalesce(handed_over_at, mql_at)', 'sal_at', '(handed_over_at is not null or is_mql_at_observed)'),
    ('sal', 'sql', 'sal_at', 'sql_at', 'true'),
    ('sql', 'opportunity', 'sql_at', 'opportunity_at', 'true'),
    ('opportunity', 'won', 'opportunity_at', 'won_at', 'true'),
    ('lead', 'won', 'created_at', 'won_at', 'true'),
] -%}

with

lead_funnel as (

    select * from {{ ref('int_lead_funnel_stages') }}

),

-- one row per cohort month and source channel (docs/design.md, "The marts": mart_funnel)
aggregated as (

    select
        cohort_month,
        source_channel,
        count(*) as lead_count,
        sum(case when is_mql then 1 else 0 end) as mql_count,
        sum(case when is_sal then 1 else 0 end) as sal_count,
        sum(case when is_sql then 1 else 0 end) as sql_count,
        sum(case when is_opportunity then 1 else 0 end) as opportunity_count,
        sum(case when is_won then 1 else 0 end) as won_count,
        {%- for from_stage, to_stage, from_at, to_at, observed in stage_pairs %}
        {{ sales_median(
            'case when ' ~ to_at ~ ' >= ' ~ from_at ~ ' and ' ~ observed
            ~ ' then ' ~ sales_hours_between(from_at, to_at) ~ ' / 24.0 end'
        ) }} as median_days_{{ from_stage }}_to_{{ to_stage }},
        {%- endfor %}
        sum(case when sla_status = 'met' then 1 else 0 end) as sla_met_count,
        sum(case when sla_status = 'breached' then 1 else 0 end) as sla_breached_count,
        sum(case when sla_status = 'pending' then 1 else 0 end) as sla_pending_count

    from lead_funnel
    group by
        cohort_month,
        source_channel

),

final as (

    select
        cohort_month,
        source_channel,
        cast(lead_count as bigint) as lead_count,
        cast(mql_count as bigint) as mql_count,
        cast(sal_count as bigint) as sal_count,
        cast(sql_count as bigint) as sql_count,
        cast(opportunity_count as bigint) as opportunity_count,
        cast(won_count as bigint) as won_count,
        {{ sales_safe_divide('mql_count', 'lead_count') }} as lead_to_mql_rate,
        {{ sales_safe_divide('sal_count', 'mql_count') }} as mql_to_sal_rate,
        {{ sales_safe_divide('sql_count', 'sal_count') }} as sal_to_sql_rate,
        {{ sales_safe_divide('opportunity_count', 'sql_count') }} as sql_to_opportunity_rate,
        {{ sales_safe_divide('won_count', 'opportunity_count') }} as opportunity_to_won_rate,
        {{ sales_safe_divide('won_count', 'lead_count') }} as lead_to_won_rate,
        {%- for from_stage, to_stage, from_at, to_at, observed in stage_pairs %}
        cast(median_days_{{ from_stage }}_to_{{ to_stage }} as double precision)
            as median_days_{{ from_stage }}_to_{{ to_stage }},
        {%- endfor %}
        cast(sla_met_count as bigint) as sla_met_count,
        cast(sla_breached_count as bigint) as sla_breached_count,
        cast(sla_pending_count as bigint) as sla_pending_count,
        -- share of MQLs whose SLA is decided (met or breached) that sales met
        {{ sales_safe_divide('sla_met_count', 'sla_met_count + sla_breached_count') }} as sla_compliance_rate

    from aggregated

)

select * from final
