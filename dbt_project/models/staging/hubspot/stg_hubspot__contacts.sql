{%- set raw_columns = relation_column_names(source('hubspot', 'contacts')) -%}

with

source as (

    select * from {{ source('hubspot', 'contacts') }}

),

renamed as (

    select
        cast(id as {{ dbt.type_string() }}) as hubspot_contact_id,
        nullif(lower(trim({{ optional_column(raw_columns, 'email', dbt.type_string()) }})), '') as email,
        nullif(trim({{ optional_column(raw_columns, 'firstname', dbt.type_string()) }}), '') as first_name,
        nullif(trim({{ optional_column(raw_columns, 'lastname', dbt.type_string()) }}), '') as last_name,
        nullif(trim({{ optional_column(raw_columns, 'company', dbt.type_string()) }}), '') as company_name,
        nullif(trim({{ optional_column(raw_columns, 'jobtitle', dbt.type_string()) }}), '') as job_title,
        nullif(trim({{ optional_column(raw_columns, 'industry', dbt.type_string()) }}), '') as industry,
        nullif(lower(trim({{ optional_column(raw_columns, 'lifecyclestage', dbt.type_string()) }})), '') as lifecycle_stage,
        nullif(trim({{ optional_column(raw_columns, 'hs_lead_status', dbt.type_string()) }}), '') as lead_status,
        nullif(trim({{ optional_column(raw_columns, 'hubspot_owner_id', dbt.type_string()) }}), '') as hubspot_owner_id,
        -- archived contacts are deleted in HubSpot: carried as a soft delete
        coalesce(cast(archived as boolean), false) as is_deleted,
        {{ to_utc_timestamp(optional_column(raw_columns, 'createdate', 'timestamp with time zone')) }} as created_at,
        {{ to_utc_timestamp('lastmodifieddate') }} as updated_at,
        {{ dlt_loaded_at('_dlt_load_id') }} as loaded_at,
        cast(_dlt_load_id as {{ dbt.type_string() }}) as dlt_load_id

    from source

),

-- a contact re-read by a later load appears again: keep its latest version
deduplicated as (

    select
        *,
        row_number() over (
            partition by hubspot_contact_id
            order by updated_at desc nulls last, dlt_load_id desc
        ) as version_rank

    from renamed

),

final as (

    select
        hubspot_contact_id,
        email,
        first_name,
        last_name,
        company_name,
        job_title,
        industry,
        lifecycle_stage,
        lead_status,
        hubspot_owner_id,
        is_deleted,
        created_at,
        updated_at,
        loaded_at,
        dlt_load_id

    from deduplicated
    where version_rank = 1

)

select * from final
