{{ config(alias='dim_lead') }}

with

leads as (

    select * from {{ ref('dim_lead') }}

),

-- PII for BI tools (DESIGN.md, "Schemas": bi): the e-mail only as a hash, names dropped
final as (

    select
        lead_id,
        {{ dbt.hash('email') }} as email_hash,
        email_domain,
        marketo_lead_id,
        hubspot_contact_id,
        sfdc_lead_id,
        company_name,
        company_name_normalized,
        job_title,
        industry,
        number_of_employees,
        lead_source,
        lifecycle_stage,
        sfdc_lead_status,
        sfdc_owner_id,
        hubspot_owner_id,
        is_in_marketo,
        is_in_hubspot,
        is_in_salesforce,
        is_converted,
        is_unsubscribed,
        is_email_invalid,
        is_deleted,
        created_at,
        updated_at

    from leads

)

select * from final
