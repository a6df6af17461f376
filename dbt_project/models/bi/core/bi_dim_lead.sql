{{ config(alias='dim_lead') }}

with

leads as (

    select * from {{ ref('dim_lead') }}

),

-- PII for BI tools (DESIGN.md, "Schemas": bi): the e-mail only as a hash, names (the person's and the owner's) dropped
final as (

    select
        lead_id,
        {{ dbt.hash('email') }} as email_hash,
        {{ people_hash_pii('email') }} as email_sha256,
        email_domain,
        marketo_lead_id,
        hubspot_contact_id,
        sfdc_lead_id,
        sfdc_contact_id,
        account_id,
        company_name,
        company_name_normalized,
        job_title,
        seniority,
        department,
        industry,
        number_of_employees,
        size_band,
        lead_source,
        lifecycle_stage,
        funnel_stage,
        current_stage,
        current_stage_entered_at,
        sfdc_lead_status,
        owner_id,
        owner_system,
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
