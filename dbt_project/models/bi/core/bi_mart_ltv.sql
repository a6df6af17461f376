{{ config(alias='mart_ltv') }}

with

source_mart as (

    select * from {{ ref('mart_ltv') }}

),

-- aggregates only: no personal data to hash or drop
final as (

    select
        industry,
        size_band,
        won_opportunity_count,
        customer_count,
        won_revenue,
        average_unit_price,
        gross_margin,
        observed_years,
        customer_years,
        churned_customer_count,
        annual_purchase_frequency,
        frequency_observed,
        customer_lifetime_years,
        lifespan_observed,
        ltv,
        first_won_at,
        last_won_at

    from source_mart

)

select * from final
