{%- set raw_columns = relation_column_names(source('marketo', 'deleted_leads')) -%}

with

source as (

    select * from {{ source('marketo', 'deleted_leads') }}

),

renamed as (

    select
        cast(lead_id as bigint) as marketo_lead_id,
        {{ optional_column(raw_columns, 'merged_into_lead_id', 'bigint') }} as merged_into_marketo_lead_id,
        {{ optional_column(raw_columns, 'id', 'bigint') }} as marketo_activity_id,
        {{ optional_text(raw_columns, 'marketo_guid') }} as marketo_activity_guid,
        {{ optional_column(raw_columns, 'activity_type_id', 'bigint') }} as marketo_activity_type_id,
        {{ optional_text(raw_columns, 'primary_attribute_value') }} as primary_attribute_value,
        {{ to_utc_timestamp('activity_date') }} as deleted_at,
        {{ dlt_load_columns() }}

    from source

),

-- the same deletion can be read again by an overlapping window: keep the latest
deduplicated as (

    select
        *,
        {{ version_rank('marketo_lead_id', 'deleted_at') }} as version_rank

    from renamed

),

final as (

    select
        marketo_lead_id,
        merged_into_marketo_lead_id,
        -- merged away (the survivor is known) rather than deleted outright
        merged_into_marketo_lead_id is not null as is_merged,
        marketo_activity_id,
        marketo_activity_guid,
        marketo_activity_type_id,
        primary_attribute_value,
        deleted_at,
        loaded_at,
        dlt_load_id

    from deduplicated
    where version_rank = 1

)

select * from final
