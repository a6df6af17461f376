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

salesforce_leads as (

    select * from {{ ref('stg_salesforce__leads') }}

),

-- customers are observed up to the newest SFA change loaded (the SFA's own clock)
data_as_of as (

    select cast(max(updated_at) as date) as as_of_on

    from salesforce_leads

),

-- won deals with the segment of their account, else of their person
won_deals as (

    select
        opportunities.sfdc_opportunity_id,
        coalesce(opportunities.account_id, people.account_id, 'lead:' || opportunities.lead_id) as customer_key,
        coalesce(accounts.industry, people.industry, 'unknown') as industry,
        coalesce(accounts.size_band, people.size_band, 'unknown') as size_band,
        opportunities.amount,
        coalesce(opportunities.closed_at, cast(opportunities.close_date as timestamp)) as won_at,
        coalesce(opportunities.close_date, cast(opportunities.closed_at as date)) as won_on

    from opportunities
    left join accounts
        on opportunities.account_id = accounts.account_id
    left join people
        on opportunities.lead_id = people.lead_id
    where opportunities.is_won
        and not opportunities.is_deleted

),

-- a customer ends when a renewal lapses (a Renewal opportunity closed lost)
churns as (

    select
        account_id as customer_key,
        min(coalesce(close_date, cast(closed_at as date))) as churned_on

    from opportunities
    where opportunity_type = 'Renewal'
        and is_closed
        and not is_won
        and not is_deleted
        and account_id is not null
    group by account_id

),

-- each customer's observed tenure: from its first purchase to its churn, else to the
-- latest data
customers as (

    select
        won_deals.industry,
        won_deals.size_band,
        won_deals.customer_key,
        count(*) as won_opportunity_count,
        min(won_deals.won_on) as first_won_on,
        max(churns.churned_on) as churned_on,
        greatest(
            {{ dbt.datediff('min(won_deals.won_on)', 'coalesce(max(churns.churned_on), max(data_as_of.as_of_on))', 'day') }},
            0
        ) / 365.25 as customer_years

    from won_deals
    cross join data_as_of
    left join churns
        on won_deals.customer_key = churns.customer_key
    group by
        won_deals.industry,
        won_deals.size_band,
        won_deals.customer_key

),

customer_totals as (

    select
        industry,
        size_band,
        sum(customer_years) as customer_years,
        sum(case when churned_on is not null then 1 else 0 end) as churned_customer_count

    from customers
    group by
        industry,
        size_band

),

deal_totals as (

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

segments as (

    select
        deal_totals.*,
        customer_totals.customer_years,
        customer_totals.churned_customer_count

    from deal_totals
    inner join customer_totals
        on
            deal_totals.industry = customer_totals.industry
            and deal_totals.size_band = customer_totals.size_band

),

-- LTV = average unit price x gross margin x annual purchase frequency x years
-- (docs/design.md, "The marts": mart_ltv). Purchase frequency: won deals per customer-year
-- observed (renewals and expansions included), once the segment's customers add up
-- to a year; before that, won deals per customer over the window of wins, at least a
-- year. Lifetime: customer-years per churned customer (the exponential estimate
-- with ongoing customers censored) once a customer churned; before that the dbt var.
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
        customer_years,
        churned_customer_count,
        {{ sales_hours_between('first_won_at', 'last_won_at') }} / 24.0 / 365.25 as observed_years,
        customer_years >= 1.0 as frequency_observed,
        churned_customer_count > 0 and customer_years > 0 as lifespan_observed,
        case
            when customer_years >= 1.0
                then cast(won_opportunity_count as double precision) / customer_years
            else cast(won_opportunity_count as double precision) / customer_count / greatest(
                {{ sales_hours_between('first_won_at', 'last_won_at') }} / 24.0 / 365.25, 1.0
            )
        end as annual_purchase_frequency,
        {{ gross_margin }} as gross_margin,
        case
            when churned_customer_count > 0 and customer_years > 0
                then customer_years / churned_customer_count
            else {{ lifetime_years }}
        end as customer_lifetime_years

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
        cast(customer_years as double precision) as customer_years,
        cast(churned_customer_count as bigint) as churned_customer_count,
        cast(annual_purchase_frequency as double precision) as annual_purchase_frequency,
        cast(frequency_observed as boolean) as frequency_observed,
        cast(customer_lifetime_years as double precision) as customer_lifetime_years,
        cast(lifespan_observed as boolean) as lifespan_observed,
        cast(
            average_unit_price * gross_margin * annual_purchase_frequency * customer_lifetime_years
            as double precision
        ) as ltv,
        first_won_at,
        last_won_at

    from factors

)

select * from final
