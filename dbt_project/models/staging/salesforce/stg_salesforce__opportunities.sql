{%- set raw_columns = relation_column_names(source('salesforce', 'opportunities')) -%}

with

source as (

    select * from {{ source('salesforce', 'opportunities') }}

),

renamed as (

    select
        cast(id as {{ dbt.type_string() }}) as sfdc_opportunity_id,
        {{ optional_text(raw_columns, 'account_id') }} as sfdc_account_id,
        {{ optional_text(raw_columns, 'name') }} as opportunity_name,
        -- New Customer, Renewal, Existing Customer - Upgrade (Salesforce's Type picklist)
        {{ optional_text(raw_columns, 'type') }} as opportunity_type,
        {{ optional_text(raw_columns, 'stage_name') }} as stage_name,
        {{ optional_column(raw_columns, 'amount', 'double precision') }} as amount,
        {{ optional_column(raw_columns, 'close_date', 'date') }} as close_date,
        coalesce({{ optional_column(raw_columns, 'is_closed', 'boolean') }}, false) as is_closed,
        coalesce({{ optional_column(raw_columns, 'is_won', 'boolean') }}, false) as is_won,
        {{ optional_column(raw_columns, 'probability', 'double precision') }} as probability,
        {{ optional_text(raw_columns, 'lead_source') }} as lead_source,
        {{ optional_text(raw_columns, 'owner_id') }} as sfdc_owner_id,
        {{ sfdc_audit_columns(raw_columns) }}

    from source

),

-- a record re-read by a later load (lookback overlap) appears again: keep its latest version
deduplicated as (

    select
        *,
        {{ version_rank('sfdc_opportunity_id') }} as version_rank

    from renamed

),

final as (

    select
        sfdc_opportunity_id,
        sfdc_account_id,
        opportunity_name,
        opportunity_type,
        stage_name,
        amount,
        close_date,
        is_closed,
        is_won,
        probability,
        lead_source,
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
