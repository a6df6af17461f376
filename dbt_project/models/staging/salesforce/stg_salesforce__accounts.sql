{%- set raw_columns = relation_column_names(source('salesforce', 'accounts')) -%}

with

source as (

    select * from {{ source('salesforce', 'accounts') }}

),

renamed as (

    select
        cast(id as {{ dbt.type_string() }}) as sfdc_account_id,
        {{ optional_text(raw_columns, 'name') }} as account_name,
        {{ optional_text(raw_columns, 'website') }} as website,
        {{ optional_text(raw_columns, 'industry') }} as industry,
        {{ optional_column(raw_columns, 'number_of_employees', 'integer') }} as number_of_employees,
        {{ optional_text(raw_columns, 'owner_id') }} as sfdc_owner_id,
        {{ sfdc_audit_columns(raw_columns) }}

    from source

),

-- a record re-read by a later load (lookback overlap) appears again: keep its latest version
deduplicated as (

    select
        *,
        {{ version_rank('sfdc_account_id') }} as version_rank

    from renamed

),

final as (

    select
        sfdc_account_id,
        account_name,
        website,
        industry,
        number_of_employees,
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
