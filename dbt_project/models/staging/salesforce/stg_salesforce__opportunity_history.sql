{%- set raw_columns = relation_column_names(source('salesforce', 'opportunity_history')) -%}

with

source as (

    select * from {{ source('salesforce', 'opportunity_history') }}

),

renamed as (

    select
        cast(id as {{ dbt.type_string() }}) as sfdc_opportunity_history_id,
        {{ optional_text(raw_columns, 'opportunity_id') }} as sfdc_opportunity_id,
        {{ optional_text(raw_columns, 'stage_name') }} as stage_name,
        {{ optional_column(raw_columns, 'amount', 'double precision') }} as amount,
        {{ optional_column(raw_columns, 'close_date', 'date') }} as close_date,
        {{ optional_column(raw_columns, 'probability', 'double precision') }} as probability,
        {{ sfdc_audit_columns(raw_columns) }}

    from source

),

-- a record re-read by a later load (lookback overlap) appears again: keep its latest version
deduplicated as (

    select
        *,
        {{ version_rank('sfdc_opportunity_history_id') }} as version_rank

    from renamed

),

final as (

    select
        sfdc_opportunity_history_id,
        sfdc_opportunity_id,
        stage_name,
        amount,
        close_date,
        probability,
        is_deleted,
        created_at,
        updated_at,
        loaded_at,
        dlt_load_id

    from deduplicated
    where version_rank = 1

)

select * from final
