{%- set raw_columns = relation_column_names(source('salesforce', 'users')) -%}

with

source as (

    select * from {{ source('salesforce', 'users') }}

),

renamed as (

    select
        cast(id as {{ dbt.type_string() }}) as sfdc_user_id,
        {{ optional_text(raw_columns, 'name') }} as full_name,
        {{ optional_text(raw_columns, 'first_name') }} as first_name,
        {{ optional_text(raw_columns, 'last_name') }} as last_name,
        {{ optional_text(raw_columns, 'email', lower=true) }} as email,
        {{ optional_text(raw_columns, 'title') }} as job_title,
        coalesce({{ optional_column(raw_columns, 'is_active', 'boolean') }}, false) as is_active,
        {{ sfdc_audit_columns(raw_columns, deletable=false) }}

    from source

),

-- a record re-read by a later load (lookback overlap) appears again: keep its latest version
deduplicated as (

    select
        *,
        {{ version_rank('sfdc_user_id') }} as version_rank

    from renamed

),

final as (

    select
        sfdc_user_id,
        full_name,
        first_name,
        last_name,
        email,
        job_title,
        is_active,
        created_at,
        updated_at,
        loaded_at,
        dlt_load_id

    from deduplicated
    where version_rank = 1

)

select * from final
