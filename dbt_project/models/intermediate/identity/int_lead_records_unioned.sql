with

salesforce_leads as (

    select * from {{ ref('stg_salesforce__leads') }}

),

hubspot_contacts as (

    select * from {{ ref('stg_hubspot__contacts') }}

),

marketo_leads as (

    select * from {{ ref('stg_marketo__leads') }}

),

-- one row per source record; source_priority orders the systems for best-known
-- values: the SFA (sales-verified) over the CRM over the MA (DESIGN.md, dim_lead)
unioned as (

    select
        'salesforce' as source_system,
        1 as source_priority,
        sfdc_lead_id as source_record_id,
        cast(null as bigint) as marketo_lead_id,
        cast(null as {{ dbt.type_string() }}) as hubspot_contact_id,
        sfdc_lead_id,
        email,
        first_name,
        last_name,
        company_name,
        job_title,
        industry,
        cast(null as integer) as number_of_employees,
        lead_source,
        cast(null as {{ dbt.type_string() }}) as lifecycle_stage,
        lead_status as sfdc_lead_status,
        sfdc_owner_id,
        cast(null as {{ dbt.type_string() }}) as hubspot_owner_id,
        is_converted,
        false as is_unsubscribed,
        false as is_email_invalid,
        is_deleted,
        created_at,
        updated_at

    from salesforce_leads

    union all

    select
        'hubspot' as source_system,
        2 as source_priority,
        hubspot_contact_id as source_record_id,
        cast(null as bigint) as marketo_lead_id,
        hubspot_contact_id,
        cast(null as {{ dbt.type_string() }}) as sfdc_lead_id,
        email,
        first_name,
        last_name,
        company_name,
        job_title,
        industry,
        cast(null as integer) as number_of_employees,
        cast(null as {{ dbt.type_string() }}) as lead_source,
        lifecycle_stage,
        cast(null as {{ dbt.type_string() }}) as sfdc_lead_status,
        cast(null as {{ dbt.type_string() }}) as sfdc_owner_id,
        hubspot_owner_id,
        false as is_converted,
        false as is_unsubscribed,
        false as is_email_invalid,
        is_deleted,
        created_at,
        updated_at

    from hubspot_contacts

    union all

    select
        'marketo' as source_system,
        3 as source_priority,
        cast(marketo_lead_id as {{ dbt.type_string() }}) as source_record_id,
        marketo_lead_id,
        cast(null as {{ dbt.type_string() }}) as hubspot_contact_id,
        cast(null as {{ dbt.type_string() }}) as sfdc_lead_id,
        email,
        first_name,
        last_name,
        company_name,
        job_title,
        industry,
        number_of_employees,
        lead_source,
        cast(null as {{ dbt.type_string() }}) as lifecycle_stage,
        cast(null as {{ dbt.type_string() }}) as sfdc_lead_status,
        cast(null as {{ dbt.type_string() }}) as sfdc_owner_id,
        cast(null as {{ dbt.type_string() }}) as hubspot_owner_id,
        false as is_converted,
        is_unsubscribed,
        is_email_invalid,
        -- Marketo deletes leave no trace in the lead extract
        false as is_deleted,
        created_at,
        updated_at

    from marketo_leads

),

normalized as (

    select
        *,
        {{ normalize_email('email') }} as email_normalized,
        {{ normalize_company_name('company_name') }} as company_name_normalized

    from unioned

),

-- a person is their normalised e-mail; a record without a usable address stays
-- a person of its own, keyed by its source id, so nothing is dropped
keyed as (

    select
        *,
        coalesce(email_normalized, source_system || ':' || source_record_id) as identity_key

    from normalized

),

final as (

    select
        {{ dbt.hash('identity_key') }} as lead_id,
        source_system,
        source_record_id,
        source_priority,
        marketo_lead_id,
        hubspot_contact_id,
        sfdc_lead_id,
        identity_key,
        email_normalized,
        first_name,
        last_name,
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
        is_converted,
        is_unsubscribed,
        is_email_invalid,
        is_deleted,
        created_at,
        updated_at

    from keyed

)

select * from final
