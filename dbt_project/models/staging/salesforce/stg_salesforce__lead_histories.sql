{%- set raw_columns = relation_column_names(source('salesforce', 'lead_history')) -%}

with

source as (

    select * from {{ source('salesforce', 'lead_history') }}

),

renamed as (

    select
        cast(id as {{ dbt.type_string() }}) as sfdc_lead_history_id,
        {{ optional_text(raw_columns, 'lead_id') }} as sfdc_lead_id,
        {{ optional_text(raw_columns, 'field') }} as field_name,
        {{ optional_text(raw_columns, 'old_value') }} as old_value,
        {{ optional_text(raw_columns, 'new_value') }} as new_value,
        coalesce(cast(is_deleted as boolean), false) as is_deleted,
        -- a history row is written once and never modified: CreatedDate is its cursor
        {{ to_utc_timestamp('created_date') }} as changed_at,
        {{ dlt_load_columns() }}

    from source

),

-- a record re-read by a later load (lookback overlap) appears again: keep its latest load
deduplicated as (

    select
        *,
        {{ version_rank('sfdc_lead_history_id', updated_at=none) }} as version_rank

    from renamed

),

final as (

    select
        sfdc_lead_history_id,
        sfdc_lead_id,
        field_name,
        old_value,
        new_value,
        is_deleted,
        changed_at,
        loaded_at,
        dlt_load_id

    from deduplicated
    where version_rank = 1

)

select * from final
