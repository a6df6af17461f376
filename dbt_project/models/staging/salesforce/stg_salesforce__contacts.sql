{%- set raw_columns = relation_column_names(source('salesforce', 'contacts')) -%}

with

source as (

    select * from {{ source('salesforce', 'contacts') }}

),

renamed as (

    select
        cast(id as {{ dbt.type_string() }}) as sfdc_contact_id,
        {{ optional_text(raw_columns, 'account_id') }} as sfdc_account_id,
        {{ optional_text(raw_columns, 'email', lower=true) }} as email,
        {{ optional_text(raw_columns, 'first_name') }} as first_name,
        {{ optional_text(raw_columns, 'last_name') }} as last_name,
        {{ optional_text(raw_columns, 'title') }} as job_title,
        {{ optional_text(raw_columns, 'department') }} as department,
        {{ optional_text(raw_columns, 'lead_source') }} as lead_source,
        {{ optional_text(raw_columns, 'owner_id') }} as sfdc_owner_id,
        {{ sfdc_audit_columns(raw_columns) }}

    from source

),

-- a record re-read by a later load (lookback overlap) appears again: keep its latest version
deduplicated as (

    select
        *,
        {{ version_rank('sfdc_contact_id') }} as version_rank

    from renamed

),

final as (

    select
        sfdc_contact_id,
        sfdc_account_id,
        email,
        first_name,
        last_name,
        job_title,
        department,
        lead_source,
        sfdc_owner_id,
        is_deleted,
        created_at,
        updated_at,
        loaded_at,
        dlt_load_id

    from deduplicated
    where version_rank = 1

)

select * from final
