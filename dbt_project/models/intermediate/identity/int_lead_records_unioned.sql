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

salesforce_contacts as (

    select * from {{ ref('stg_salesforce__contacts') }}

),

salesforce_accounts as (

    select * from {{ ref('stg_salesforce__accounts') }}

),

-- people met at trade shows and business cards exchanged (dropped files): empty until
-- a file of the kind is imported
file_rows as (

    select 'trade_show' as source_system, * from {{ ref('stg_files__trade_show') }}

    union all

    select 'business_card' as source_system, * from {{ ref('stg_files__business_cards') }}

),

-- leads exported from other tools (dropped lead lists), keyed by their own id: empty
-- until a lead list is imported
imported_leads as (

    select * from {{ ref('stg_files__leads') }}

),

-- a contact's company is its Account. Deleted contacts (merge losers, recycle bin)
-- are not identity records: Salesforce moves their roles to the surviving contact
live_contacts as (

    select
        salesforce_contacts.*,
        salesforce_accounts.account_name as company_name

    from salesforce_contacts
    left join salesforce_accounts
        on salesforce_contacts.sfdc_account_id = salesforce_accounts.sfdc_account_id
    where not salesforce_contacts.is_deleted

),

-- one row per source record; source_priority orders the systems for best-known
-- values: the SFA (sales-verified; a contact over a lead) over the CRM over the MA
-- (docs/design.md, dim_lead)
unioned as (

    select
        'salesforce' as source_system,
        1 as source_priority,
        sfdc_lead_id as source_record_id,
        cast(null as bigint) as marketo_lead_id,
        cast(null as {{ dbt.type_string() }}) as hubspot_contact_id,
        sfdc_lead_id,
        cast(null as {{ dbt.type_string() }}) as sfdc_contact_id,
        sfdc_converted_account_id as sfdc_account_id,
        email,
        first_name,
        last_name,
        company_name,
        job_title,
        cast(null as {{ dbt.type_string() }}) as department,
        industry,
        number_of_employees,
        lead_source,
        cast(null as {{ dbt.type_string() }}) as lifecycle_stage,
        lead_status as sfdc_lead_status,
        nurture_lead_id,
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
        cast(null as {{ dbt.type_string() }}) as sfdc_contact_id,
        cast(null as {{ dbt.type_string() }}) as sfdc_account_id,
        email,
        first_name,
        last_name,
        company_name,
        job_title,
        cast(null as {{ dbt.type_string() }}) as department,
        industry,
        cast(null as integer) as number_of_employees,
        cast(null as {{ dbt.type_string() }}) as lead_source,
        lifecycle_stage,
        cast(null as {{ dbt.type_string() }}) as sfdc_lead_status,
        cast(null as {{ dbt.type_string() }}) as nurture_lead_id,
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
        'salesforce_contact' as source_system,
        0 as source_priority,
        sfdc_contact_id as source_record_id,
        cast(null as bigint) as marketo_lead_id,
        cast(null as {{ dbt.type_string() }}) as hubspot_contact_id,
        cast(null as {{ dbt.type_string() }}) as sfdc_lead_id,
        sfdc_contact_id,
        sfdc_account_id,
        email,
        first_name,
        last_name,
        company_name,
        job_title,
        department,
        cast(null as {{ dbt.type_string() }}) as industry,
        cast(null as integer) as number_of_employees,
        lead_source,
        cast(null as {{ dbt.type_string() }}) as lifecycle_stage,
        cast(null as {{ dbt.type_string() }}) as sfdc_lead_status,
        cast(null as {{ dbt.type_string() }}) as nurture_lead_id,
        sfdc_owner_id,
        cast(null as {{ dbt.type_string() }}) as hubspot_owner_id,
        false as is_converted,
        false as is_unsubscribed,
        false as is_email_invalid,
        is_deleted,
        created_at,
        updated_at

    from live_contacts

    union all

    select
        'marketo' as source_system,
        3 as source_priority,
        cast(marketo_lead_id as {{ dbt.type_string() }}) as source_record_id,
        marketo_lead_id,
        cast(null as {{ dbt.type_string() }}) as hubspot_contact_id,
        cast(null as {{ dbt.type_string() }}) as sfdc_lead_id,
        cast(null as {{ dbt.type_string() }}) as sfdc_contact_id,
        cast(null as {{ dbt.type_string() }}) as sfdc_account_id,
        email,
        first_name,
        last_name,
        company_name,
        job_title,
        cast(null as {{ dbt.type_string() }}) as department,
        industry,
        number_of_employees,
        lead_source,
        cast(null as {{ dbt.type_string() }}) as lifecycle_stage,
        cast(null as {{ dbt.type_string() }}) as sfdc_lead_status,
        cast(null as {{ dbt.type_string() }}) as nurture_lead_id,
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

    union all

    -- a file row ranks last: what the marketer typed off a badge or a card
    select
        source_system,
        4 as source_priority,
        file_row_id as source_record_id,
        cast(null as bigint) as marketo_lead_id,
        cast(null as {{ dbt.type_string() }}) as hubspot_contact_id,
        cast(null as {{ dbt.type_string() }}) as sfdc_lead_id,
        cast(null as {{ dbt.type_string() }}) as sfdc_contact_id,
        cast(null as {{ dbt.type_string() }}) as sfdc_account_id,
        email,
        first_name,
        -- a file with one name column: the whole name stands as the family name
        coalesce(last_name, full_name) as last_name,
        company_name,
        job_title,
        department,
        cast(null as {{ dbt.type_string() }}) as industry,
        cast(null as integer) as number_of_employees,
        case source_system when 'trade_show' then 'Trade Show' else 'Business Card' end
            as lead_source,
        cast(null as {{ dbt.type_string() }}) as lifecycle_stage,
        cast(null as {{ dbt.type_string() }}) as sfdc_lead_status,
        cast(null as {{ dbt.type_string() }}) as nurture_lead_id,
        cast(null as {{ dbt.type_string() }}) as sfdc_owner_id,
        cast(null as {{ dbt.type_string() }}) as hubspot_owner_id,
        false as is_converted,
        false as is_unsubscribed,
        false as is_email_invalid,
        false as is_deleted,
        coalesce(cast(met_date as timestamp), loaded_at) as created_at,
        loaded_at as updated_at

    from file_rows

    union all

    -- a lead list from another tool: its own system, matched to the others' people by
    -- e-mail where the row has one, a person of its own (keyed by its id) where not
    select
        'imported_lead' as source_system,
        5 as source_priority,
        imported_lead_key as source_record_id,
        cast(null as bigint) as marketo_lead_id,
        cast(null as {{ dbt.type_string() }}) as hubspot_contact_id,
        cast(null as {{ dbt.type_string() }}) as sfdc_lead_id,
        cast(null as {{ dbt.type_string() }}) as sfdc_contact_id,
        cast(null as {{ dbt.type_string() }}) as sfdc_account_id,
        email,
        cast(null as {{ dbt.type_string() }}) as first_name,
        cast(null as {{ dbt.type_string() }}) as last_name,
        company_name,
        job_title,
        cast(null as {{ dbt.type_string() }}) as department,
        industry,
        number_of_employees,
        lead_source,
        cast(null as {{ dbt.type_string() }}) as lifecycle_stage,
        cast(null as {{ dbt.type_string() }}) as sfdc_lead_status,
        cast(null as {{ dbt.type_string() }}) as nurture_lead_id,
        cast(null as {{ dbt.type_string() }}) as sfdc_owner_id,
        cast(null as {{ dbt.type_string() }}) as hubspot_owner_id,
        false as is_converted,
        false as is_unsubscribed,
        false as is_email_invalid,
        false as is_deleted,
        coalesce(created_at, loaded_at) as created_at,
        loaded_at as updated_at

    from imported_leads

),

normalized as (

    select
        *,
        {{ normalize_email('email') }} as email_normalized,
        {{ normalize_company_name('company_name') }} as company_name_normalized,
        {{ normalize_person_name('last_name', 'first_name') }} as full_name_normalized

    from unioned

),

-- fallback for records without a usable address: the normalised full name and
-- company (NFKC, legal forms and spaces removed) of exactly one known e-mail
name_company_keyed as (

    select
        *,
        case
            when full_name_normalized is not null and company_name_normalized is not null
                then full_name_normalized || '|' || company_name_normalized
        end as name_company_key

    from normalized

),

name_company_emails as (

    select
        name_company_key,
        min(email_normalized) as email_normalized,
        count(distinct email_normalized) as email_count

    from name_company_keyed
    where email_normalized is not null
        and name_company_key is not null
    group by name_company_key

),

-- a person is their normalised e-mail; a record without one joins the person whose
-- name and company it shares when that match is unambiguous (one e-mail), else it
-- stays a person of its own, keyed by its source id, so nothing is dropped.
-- E-mail-less records are never merged with each other: name + company alone is
-- too weak (two 山田太郎 at one large company are common).
keyed as (

    select
        name_company_keyed.*,
        case
            when name_company_keyed.email_normalized is not null then 'email'
            when name_company_emails.email_count = 1 then 'name_company'
            else 'source_record'
        end as identity_match,
        coalesce(
            name_company_keyed.email_normalized,
            case when name_company_emails.email_count = 1 then name_company_emails.email_normalized end,
            name_company_keyed.source_system || ':' || name_company_keyed.source_record_id
        ) as identity_key

    from name_company_keyed
    left join name_company_emails
        on
            name_company_keyed.email_normalized is null
            and name_company_keyed.name_company_key = name_company_emails.name_company_key

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
        sfdc_contact_id,
        sfdc_account_id,
        identity_key,
        identity_match,
        email_normalized,
        full_name_normalized,
        first_name,
        last_name,
        company_name,
        company_name_normalized,
        job_title,
        department,
        industry,
        number_of_employees,
        lead_source,
        lifecycle_stage,
        sfdc_lead_status,
        nurture_lead_id,
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
