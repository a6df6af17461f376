{%- set raw_columns = relation_column_names(source('salesforce', 'campaigns')) -%}

with

source as (

    select * from {{ source('salesforce', 'campaigns') }}

),

renamed as (

    select
        cast(id as {{ dbt.type_string() }}) as sfdc_campaign_id,
        {{ optional_text(raw_columns, 'name') }} as campaign_name,
        {{ optional_text(raw_columns, 'type') }} as campaign_type,
        {{ optional_column(raw_columns, 'start_date', 'date') }} as start_date,
        {{ optional_column(raw_columns, 'end_date', 'date') }} as end_date,
        coalesce({{ optional_column(raw_columns, 'is_active', 'boolean') }}, false) as is_active,
        {{ optional_column(raw_columns, 'budgeted_cost', 'double precision') }} as budgeted_cost,
        {{ optional_column(raw_columns, 'actual_cost', 'double precision') }} as actual_cost,
        {{ sfdc_audit_columns(raw_columns) }}

    from source

),

-- a record re-read by a later load (lookback overlap) appears again: keep its latest version
deduplicated as (

    select
        *,
        {{ version_rank('sfdc_campaign_id') }} as version_rank

    from renamed

),

final as (

    select
        sfdc_campaign_id,
        campaign_name,
        campaign_type,
        start_date,
        end_date,
        is_active,
        budgeted_cost,
        actual_cost,
        is_deleted,
        created_at,
        updated_at,
        loaded_at,
        dlt_load_id

    from deduplicated
    where version_rank = 1

)

select * from final
