{%- set gross_margin = var('ltv_gross_margin') | float -%}
{%- set lifetime_years = var('ltv_customer_lifetime_years') | float -%}

with

opportunities as (

    select * from {{ ref('int_opportunities_attributed') }}

),

accounts as (

    select * from {{ ref('dim_account') }}

),

people as (

    select * from {{ ref('dim_lead') }}

),

-- won deals with the segment of their account, else of their person
won_deals as (

    select
        opportunities.sfdc_opportunity_id,
        coalesce(opportunities.account_id, people.account_id, 'lead:' || opportunities.lead_id) as customer_key,
        coalesce(accounts.industry, people.industry, 'unknown') as industry,
        coalesce(accounts.size_band, people.size_band, 'unknown') as size_band,
        opportunities.amount,
        coalesce(opportunities.closed_at, cast(opportunities.close_date as timestamp)) as won_at

    from opportunities
    left join accounts
        on opportunities.account_id = accounts.account_id
    left join people
        on opportunities.lead_id = people.lead_id
    where opportunities.is_won
        and not opportunities.is_deleted

),

segments as (

    select
        industry,
        size_band,
        count(*) as won_opportunity_count,
        count(distinct customer_key) as customer_count,
        sum(amount) as won_revenue,
        avg(amount) as average_unit_price,
        min(won_at) as first_won_at,
        max(won_at) as last_won_at

    from won_deals
    group by
        industry,
        size_band

),

-- LTV = average unit price x gross margin x annual purchase frequency x years
-- (DESIGN.md, "Marts": mart_ltv). Purchase frequency: won deals per customer per
-- year of observed wins, a window shorter than a year counting as one year.
factors as (

    select
        industry,
        size_band,
        won_opportunity_count,
        customer_count,
        won_revenue,
        average_unit_price,
        first_won_at,
        last_won_at,
        greatest(
            {{ sales_hours_between('first_won_at', 'last_won_at') }} / 24.0 / 365.25,
            1.0
        ) as observed_years,
        {{ gross_margin }} as gross_margin,
        {{ lifetime_years }} as customer_lifetime_years

    from segments

),

final as (

    select
        industry,
        size_band,
        cast(won_opportunity_count as bigint) as won_opportunity_count,
        cast(customer_count as bigint) as customer_count,
        cast(won_revenue as double precision) as won_revenue,
        cast(average_unit_price as double precision) as average_unit_price,
        cast(gross_margin as double precision) as gross_margin,
        cast(observed_years as double precision) as observed_years,
        cast(won_opportunity_count as double precision) / customer_count / observed_years
            as annual_purchase_frequency,
        cast(customer_lifetime_years as double precision) as customer_lifetime_years,
        cast(
            average_unit_price
            * gross_margin
            * (cast(won_opportunity_count as double precision) / customer_count / observed_years)
            * customer_lifetime_years
            as double precision
        ) as ltv,
        first_won_at,
        last_won_at

    from factors

)

select * from final
