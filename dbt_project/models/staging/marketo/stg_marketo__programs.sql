{%- set raw_columns = relation_column_names(source('marketo', 'programs')) -%}

with

source as (

    select * from {{ source('marketo', 'programs') }}

),

renamed as (

    select
        cast(id as bigint) as marketo_program_id,
        {{ optional_text(raw_columns, 'name') }} as program_name,
        {{ optional_text(raw_columns, 'type') }} as program_type,
        -- as configured in Marketo; the seed marketo_program_channels maps it to a nurturing channel
        {{ optional_text(raw_columns, 'channel') }} as program_channel,
        {{ optional_text(raw_columns, 'status') }} as program_status,
        {{ optional_text(raw_columns, 'workspace') }} as workspace,
        {{ optional_text(raw_columns, 'tag_content_type') }} as content_type,
        -- the sum of the program's period costs (asset API `costs`) to date
        {{ optional_column(raw_columns, 'period_cost', 'double precision') }} as period_cost,
        {{ optional_column(raw_columns, 'period_cost_count', 'bigint') }} as period_cost_count,
        {{ to_utc_timestamp(optional_column(raw_columns, 'start_date', 'timestamp with time zone')) }} as started_at,
        {{ to_utc_timestamp(optional_column(raw_columns, 'end_date', 'timestamp with time zone')) }} as ended_at,
        {{ to_utc_timestamp(optional_column(raw_columns, 'created_at', 'timestamp with time zone')) }} as created_at,
        {{ to_utc_timestamp(optional_column(raw_columns, 'updated_at', 'timestamp with time zone')) }} as updated_at,
        {{ dlt_load_columns() }}

    from source

),

-- programs are read whole on every run: keep each one's latest version
deduplicated as (

    select
        *,
        {{ version_rank('marketo_program_id') }} as version_rank

    from renamed

),

final as (

    select
        marketo_program_id,
        program_name,
        program_type,
        program_channel,
        program_status,
        workspace,
        content_type,
        period_cost,
        period_cost_count,
        started_at,
        ended_at,
        cast(started_at as date) as launch_date,
        created_at,
        updated_at,
        loaded_at,
        dlt_load_id

    from deduplicated
    where version_rank = 1

)

select * from final
