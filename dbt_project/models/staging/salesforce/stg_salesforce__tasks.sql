{%- set raw_columns = relation_column_names(source('salesforce', 'tasks')) -%}

with

source as (

    select * from {{ source('salesforce', 'tasks') }}

),

renamed as (

    select
        cast(id as {{ dbt.type_string() }}) as sfdc_task_id,
        {{ optional_text(raw_columns, 'who_id') }} as sfdc_who_id,
        {{ optional_text(raw_columns, 'subject') }} as subject,
        {{ optional_text(raw_columns, 'description') }} as description,
        {{ optional_text(raw_columns, 'status') }} as task_status,
        {{ optional_text(raw_columns, 'priority') }} as priority,
        {{ optional_column(raw_columns, 'activity_date', 'date') }} as due_date,
        {{ optional_text(raw_columns, 'owner_id') }} as sfdc_owner_id,
        {{ sfdc_audit_columns(raw_columns) }}

    from source

),

-- a record re-read by a later load (lookback overlap) appears again: keep its latest version
deduplicated as (

    select
        *,
        {{ version_rank('sfdc_task_id') }} as version_rank

    from renamed

),

final as (

    select
        sfdc_task_id,
        sfdc_who_id,
        subject,
        description,
        task_status,
        priority,
        due_date,
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
