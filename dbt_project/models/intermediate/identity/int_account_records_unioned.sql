{%- set free_mail_domains = var('free_mail_domains') -%}

with

salesforce_accounts as (

    select * from {{ ref('stg_salesforce__accounts') }}

),

hubspot_companies as (

    select * from {{ ref('stg_hubspot__companies') }}

),

lead_records as (

    select * from {{ ref('int_lead_records_unioned') }}

),

-- one row per company record: Salesforce Accounts, HubSpot companies and the company
-- a person record names (with its e-mail domain unless free mail); source_priority
-- orders them for best-known values (docs/design.md, "The marts": dim_account)
unioned as (

    select
        'salesforce' as source_system,
        1 as source_priority,
        sfdc_account_id as source_record_id,
        sfdc_account_id,
        cast(null as {{ dbt.type_string() }}) as hubspot_company_id,
        cast(null as {{ dbt.type_string() }}) as lead_id,
        account_name as company_name,
        {{ normalize_company_name('account_name') }} as company_name_normalized,
        {{ people_domain('website') }} as domain,
        industry,
        number_of_employees,
        sfdc_owner_id,
        cast(null as {{ dbt.type_string() }}) as hubspot_owner_id,
        is_deleted,
        created_at,
        updated_at

    from salesforce_accounts

    union all

    select
        'hubspot' as source_system,
        2 as source_priority,
        hubspot_company_id as source_record_id,
        cast(null as {{ dbt.type_string() }}) as sfdc_account_id,
        hubspot_company_id,
        cast(null as {{ dbt.type_string() }}) as lead_id,
        company_name,
        {{ normalize_company_name('company_name') }} as company_name_normalized,
        {{ people_domain('domain') }} as domain,
        industry,
        number_of_employees,
        cast(null as {{ dbt.type_string() }}) as sfdc_owner_id,
        hubspot_owner_id,
        is_deleted,
        created_at,
        updated_at

    from hubspot_companies

    union all

    select
        'lead_record' as source_system,
        3 as source_priority,
        source_system || ':' || source_record_id as source_record_id,
        sfdc_account_id,
        cast(null as {{ dbt.type_string() }}) as hubspot_company_id,
        lead_id,
        company_name,
        company_name_normalized,
        case
            when {{ dbt.split_part('email_normalized', "'@'", 2) }} not in (
                {%- for domain in free_mail_domains %}'{{ domain }}'{{ ', ' if not loop.last }}{% endfor -%}
            )
                then {{ people_domain(dbt.split_part('email_normalized', "'@'", 2)) }}
        end as domain,
        industry,
        number_of_employees,
        cast(null as {{ dbt.type_string() }}) as sfdc_owner_id,
        cast(null as {{ dbt.type_string() }}) as hubspot_owner_id,
        is_deleted,
        created_at,
        updated_at

    from lead_records

),

-- the domain a company name stands for: a CRM/SFA record's first, then the one most
-- person records of that name use
name_domain_counts as (

    select
        company_name_normalized,
        domain,
        min(source_priority) as source_priority,
        count(*) as record_count

    from unioned
    where company_name_normalized is not null
        and domain is not null
        and not is_deleted
    group by
        company_name_normalized,
        domain

),

name_domains as (

    select
        company_name_normalized,
        domain,
        row_number() over (
            partition by company_name_normalized
            order by source_priority, record_count desc, domain
        ) as domain_rank

    from name_domain_counts

),

-- a company is its web domain; without one, its normalised name
keyed as (

    select
        unioned.*,
        coalesce(unioned.domain, name_domains.domain) as domain_resolved,
        case
            when coalesce(unioned.domain, name_domains.domain) is not null
                then 'domain:' || coalesce(unioned.domain, name_domains.domain)
            when unioned.company_name_normalized is not null
                then 'name:' || unioned.company_name_normalized
        end as account_key

    from unioned
    left join name_domains
        on
            unioned.company_name_normalized = name_domains.company_name_normalized
            and name_domains.domain_rank = 1

),

salesforce_account_keys as (

    select
        sfdc_account_id,
        account_key

    from keyed
    where source_system = 'salesforce'

),

-- a person record tied to a Salesforce Account (contact, converted lead) belongs
-- to that account, whatever its own company field says
final as (

    select
        {{ dbt.hash('coalesce(salesforce_account_keys.account_key, keyed.account_key)') }} as account_id,
        coalesce(salesforce_account_keys.account_key, keyed.account_key) as account_key,
        keyed.source_system,
        keyed.source_record_id,
        keyed.source_priority,
        keyed.sfdc_account_id,
        keyed.hubspot_company_id,
        keyed.lead_id,
        keyed.company_name,
        keyed.company_name_normalized,
        keyed.domain_resolved as domain,
        keyed.industry,
        keyed.number_of_employees,
        keyed.sfdc_owner_id,
        keyed.hubspot_owner_id,
        keyed.is_deleted,
        keyed.created_at,
        keyed.updated_at

    from keyed
    left join salesforce_account_keys
        on
            keyed.source_system = 'lead_record'
            and keyed.sfdc_account_id = salesforce_account_keys.sfdc_account_id
    where coalesce(salesforce_account_keys.account_key, keyed.account_key) is not null

)

select * from final
