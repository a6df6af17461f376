{{ config(alias='dim_account') }}

with

accounts as (

    select * from {{ ref('dim_account') }}

),

-- companies carry no personal data but their owner's name: dropped (docs/bi.md)
final as (

    select
        account_id,
        account_name,
        company_name_normalized,
        domain,
        sfdc_account_id,
        hubspot_company_id,
        industry,
        number_of_employees,
        size_band,
        owner_id,
        owner_system,
        lead_count,
        opportunity_count,
        won_opportunity_count,
        won_revenue,
        is_customer,
        is_in_salesforce,
        is_in_hubspot,
        is_deleted,
        created_at,
        updated_at

    from accounts

)

select * from final
