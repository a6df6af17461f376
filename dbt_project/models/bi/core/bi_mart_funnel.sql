{{ config(alias='mart_funnel') }}

with

source_mart as (

    select * from {{ ref('mart_funnel') }}

),

-- aggregates only: no personal data to hash or drop
final as (

    select
        cohort_month,
        source_channel,
        lead_count,
        mql_count,
        sal_count,
        sql_count,
        opportunity_count,
        won_count,
        lead_to_mql_rate,
        mql_to_sal_rate,
        sal_to_sql_rate,
        sql_to_opportunity_rate,
        opportunity_to_won_rate,
        lead_to_won_rate,
        median_days_lead_to_mql,
        median_days_mql_to_sal,
        median_days_sal_to_sql,
        median_days_sql_to_opportunity,
        median_days_opportunity_to_won,
        median_days_lead_to_won,
        sla_met_count,
        sla_breached_count,
        sla_pending_count,
        sla_compliance_rate

    from source_mart

)

select * from final
