{%- set raw_columns = relation_column_names(source('hubspot', 'companies')) -%}

with

source as (

    select * from {{ source('hubspot', 'companies') }}

),

renamed as (

    select
        cast(id as {{ dbt.type_string() }}) as hubspot_company_id,
        {{ optional_text(raw_columns, 'name') }} as company_name,
        -- a match key for accounts across systems: lower case, no "www."
        regexp_replace({{ optional_text(raw_columns, 'domain', lower=true) }}, '^www\.', '') as domain,
        {{ optional_text(raw_columns, 'industry') }} as industry,
        {{ optional_column(raw_columns, 'numberofemployees', 'integer') }} as number_of_employees,
        {{ optional_text(raw_columns, 'city') }} as city,
        {{ optional_text(raw_columns, 'country') }} as country,
        {{ optional_text(raw_columns, 'lifecyclestage', lower=true) }} as lifecycle_stage,
        {{ optional_text(raw_columns, 'hubspot_owner_id') }} as hubspot_owner_id,
        -- archived companies are deleted (or merged away) in HubSpot: carried as a soft delete
        coalesce({{ optional_column(raw_columns, 'archived', 'boolean') }}, false) as is_deleted,
        {{ to_utc_timestamp(optional_column(raw_columns, 'archived_at', 'timestamp with time zone')) }} as deleted_at,
        {{ to_utc_timestamp(optional_column(raw_columns, 'createdate', 'timestamp with time zone')) }} as created_at,
        {{ to_utc_timestamp('hs_lastmodifieddate') }} as updated_at,
        {{ dlt_load_columns() }}

    from source

),

deduplicated as (

    select
        *,
        {{ version_rank('hubspot_company_id') }} as version_rank

    from renamed

),

final as (

    select
        hubspot_company_id,
        company_name,
        domain,
        industry,
        number_of_employees,
        city,
        country,
        lifecycle_stage,
        hubspot_owner_id,
        is_deleted,
        deleted_at,
        created_at,
        updated_at,
        loaded_at,
        dlt_load_id

    from deduplicated
    where version_rank = 1

)

select * from final
