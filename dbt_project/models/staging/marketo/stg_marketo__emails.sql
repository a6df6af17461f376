{%- set raw_columns = relation_column_names(source('marketo', 'emails')) -%}

with

source as (

    select * from {{ source('marketo', 'emails') }}

),

renamed as (

    select
        cast(id as bigint) as marketo_email_id,
        {{ optional_text(raw_columns, 'name') }} as email_name,
        {{ optional_text(raw_columns, 'subject') }} as subject,
        {{ optional_column(raw_columns, 'program_id', 'bigint') }} as marketo_program_id,
        {{ optional_text(raw_columns, 'status') }} as email_status,
        {{ optional_text(raw_columns, 'description') }} as description,
        coalesce({{ optional_column(raw_columns, 'is_open_tracking_disabled', 'boolean') }}, false)
            as is_open_tracking_disabled,
        {{ to_utc_timestamp(optional_column(raw_columns, 'created_at', 'timestamp with time zone')) }} as created_at,
        {{ to_utc_timestamp(optional_column(raw_columns, 'updated_at', 'timestamp with time zone')) }} as updated_at,
        {{ dlt_load_columns() }}

    from source

),

deduplicated as (

    select
        *,
        {{ version_rank('marketo_email_id') }} as version_rank

    from renamed

),

-- one e-mail asset per A/B variant; marketing writes the test design into its
-- description as "variant=A; creative=3; content_type=problem_solution"
-- (docs/design.md, "The marts": dim_campaign); keys may come in any order or be missing
parsed as (

    select
        *,
        upper({{ key_value('description', 'variant') }}) as variant,
        cast({{ key_value('description', 'creative', '[0-9]+') }} as bigint) as creative_id,
        lower({{ key_value('description', 'content_type') }}) as content_type

    from deduplicated
    where version_rank = 1

),

final as (

    select
        marketo_email_id,
        email_name,
        subject,
        marketo_program_id,
        email_status,
        variant,
        creative_id,
        content_type,
        description,
        is_open_tracking_disabled,
        created_at,
        updated_at,
        loaded_at,
        dlt_load_id

    from parsed

)

select * from final
