{{ config(alias='dim_lead') }}

with

leads as (

    select * from {{ ref('dim_lead') }}

),

-- the keyed pseudonym of each lead (HMAC-SHA256 of lead_id, written by Nurture's
-- pseudonym step; null until it has run)
lead_keys as (

    select
        lead_id,
        lead_key

    from {{ ref('pseudonyms_lead_keys') }}

),

-- PII for BI tools: the person only as lead_key; no e-mail, no unkeyed hash of it and no
-- lead_id (md5 of the e-mail: anyone holding an address can compute both); names (the
-- person's and the owner's) dropped
final as (

    select
        lead_keys.lead_key,
        leads.email_domain,
        leads.marketo_lead_id,
        leads.hubspot_contact_id,
        leads.sfdc_lead_id,
        leads.sfdc_contact_id,
        leads.account_id,
        leads.company_name,
        leads.company_name_normalized,
        leads.job_title,
        leads.seniority,
        leads.department,
        leads.industry,
        leads.number_of_employees,
        leads.size_band,
        leads.lead_source,
        leads.lifecycle_stage,
        leads.funnel_stage,
        leads.current_stage,
        leads.current_stage_entered_at,
        leads.sfdc_lead_status,
        leads.owner_id,
        leads.owner_system,
        leads.sfdc_owner_id,
        leads.hubspot_owner_id,
        leads.is_in_marketo,
        leads.is_in_hubspot,
        leads.is_in_salesforce,
        leads.is_converted,
        leads.is_unsubscribed,
        leads.is_email_invalid,
        leads.is_deleted,
        leads.created_at,
        leads.updated_at

    from leads
    left join lead_keys
        on leads.lead_id = lead_keys.lead_id

)

select * from final
