{%- set best_known_columns = [
    'company_name',
    'company_name_normalized',
    'industry',
    'number_of_employees',
    'sfdc_account_id',
    'hubspot_company_id',
    'sfdc_owner_id',
    'hubspot_owner_id',
] -%}

with

account_records as (

    select * from {{ ref('int_account_records_unioned') }}

),

opportunities as (

    select * from {{ ref('int_opportunities_attributed') }}

),

salesforce_users as (

    select * from {{ ref('stg_salesforce__users') }}

),

hubspot_owners as (

    select * from {{ ref('stg_hubspot__owners') }}

),

-- best-known values: live records first, then Salesforce > HubSpot > person records,
-- then the latest update (as dim_lead)
ranked as (

    select
        *,
        row_number() over (
            partition by account_id
            order by
                case when is_deleted then 1 else 0 end,
                source_priority,
                updated_at desc nulls last,
                source_record_id
        ) as record_rank

    from account_records

),

attribute_ranks as (

    select
        *,
        {%- for column in best_known_columns %}
        min(case when {{ column }} is not null then record_rank end)
            over (partition by account_id) as {{ column }}_rank{{ ',' if not loop.last }}
        {%- endfor %}

    from ranked

),

resolved as (

    select
        account_id,
        max(account_key) as account_key,
        max(domain) as domain,
        {%- for column in best_known_columns %}
        max(case when record_rank = {{ column }}_rank then {{ column }} end) as {{ column }},
        {%- endfor %}
        count(distinct lead_id) as lead_count,
        max(case when source_system = 'salesforce' then 1 else 0 end) = 1 as is_in_salesforce,
        max(case when source_system = 'hubspot' then 1 else 0 end) = 1 as is_in_hubspot,
        -- an account is deleted only when every CRM/SFA record of it is
        min(case when source_system <> 'lead_record' and is_deleted then 1 when source_system <> 'lead_record' then 0 end) = 1
            as is_deleted,
        min(created_at) as created_at,
        max(updated_at) as updated_at

    from attribute_ranks
    group by account_id

),

account_deals as (

    select
        account_id,
        count(*) as opportunity_count,
        sum(case when is_won then 1 else 0 end) as won_opportunity_count,
        sum(case when is_won then amount else 0 end) as won_revenue

    from opportunities
    where account_id is not null
        and not is_deleted
    group by account_id

),

final as (

    select
        resolved.account_id,
        resolved.account_key,
        resolved.company_name as account_name,
        resolved.company_name_normalized,
        resolved.domain,
        resolved.sfdc_account_id,
        resolved.hubspot_company_id,
        resolved.industry,
        cast(resolved.number_of_employees as integer) as number_of_employees,
        {{ people_size_band('resolved.number_of_employees') }} as size_band,
        coalesce(resolved.sfdc_owner_id, resolved.hubspot_owner_id) as owner_id,
        case
            when resolved.sfdc_owner_id is not null then 'salesforce'
            when resolved.hubspot_owner_id is not null then 'hubspot'
        end as owner_system,
        coalesce(
            salesforce_users.full_name,
            nullif(trim({{ dbt.concat(["coalesce(hubspot_owners.last_name, '')", "' '", "coalesce(hubspot_owners.first_name, '')"]) }}), '')
        ) as owner_name,
        resolved.sfdc_owner_id,
        resolved.hubspot_owner_id,
        cast(resolved.lead_count as bigint) as lead_count,
        cast(coalesce(account_deals.opportunity_count, 0) as bigint) as opportunity_count,
        cast(coalesce(account_deals.won_opportunity_count, 0) as bigint) as won_opportunity_count,
        cast(coalesce(account_deals.won_revenue, 0) as double precision) as won_revenue,
        coalesce(account_deals.won_opportunity_count, 0) > 0 as is_customer,
        resolved.is_in_salesforce,
        resolved.is_in_hubspot,
        coalesce(resolved.is_deleted, false) as is_deleted,
        resolved.created_at,
        resolved.updated_at

    from resolved
    left join account_deals
        on resolved.account_id = account_deals.account_id
    left join salesforce_users
        on resolved.sfdc_owner_id = salesforce_users.sfdc_user_id
    left join hubspot_owners
        on resolved.hubspot_owner_id = hubspot_owners.hubspot_owner_id

)

select * from final
