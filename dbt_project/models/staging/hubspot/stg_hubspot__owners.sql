{%- set raw_columns = relation_column_names(source('hubspot', 'owners')) -%}

with

source as (

    select * from {{ source('hubspot', 'owners') }}

),

renamed as (

    select
        cast(id as {{ dbt.type_string() }}) as hubspot_owner_id,
        {{ optional_column(raw_columns, 'user_id', 'bigint') }} as hubspot_user_id,
        {{ optional_text(raw_columns, 'email', lower=true) }} as email,
        {{ optional_text(raw_columns, 'first_name') }} as first_name,
        {{ optional_text(raw_columns, 'last_name') }} as last_name,
        -- owners who left are archived; their records keep pointing at them
        coalesce({{ optional_column(raw_columns, 'archived', 'boolean') }}, false) as is_deleted,
        {{ to_utc_timestamp(optional_column(raw_columns, 'created_at', 'timestamp with time zone')) }} as created_at,
        {{ to_utc_timestamp(optional_column(raw_columns, 'updated_at', 'timestamp with time zone')) }} as updated_at,
        {{ dlt_load_columns() }}

    from source

),

-- owners are read whole on every run: keep each one's latest version
deduplicated as (

    select
        *,
        {{ version_rank('hubspot_owner_id') }} as version_rank

    from renamed

),

final as (

    select
        hubspot_owner_id,
        hubspot_user_id,
        email,
        first_name,
        last_name,
        is_deleted,
        created_at,
        updated_at,
        loaded_at,
        dlt_load_id

    from deduplicated
    where version_rank = 1

)

select * from final
