{%- set raw_columns = relation_column_names(source('salesforce', 'opportunity_contact_roles')) -%}

with

source as (

    select * from {{ source('salesforce', 'opportunity_contact_roles') }}

),

renamed as (

    select
        cast(id as {{ dbt.type_string() }}) as sfdc_opportunity_contact_role_id,
        {{ optional_text(raw_columns, 'opportunity_id') }} as sfdc_opportunity_id,
        {{ optional_text(raw_columns, 'contact_id') }} as sfdc_contact_id,
        {{ optional_text(raw_columns, 'role') }} as contact_role,
        coalesce({{ optional_column(raw_columns, 'is_primary', 'boolean') }}, false) as is_primary,
        {{ sfdc_audit_columns(raw_columns) }}

    from source

),

-- a record re-read by a later load (lookback overlap) appears again: keep its latest version
deduplicated as (

    select
        *,
        {{ version_rank('sfdc_opportunity_contact_role_id') }} as version_rank

    from renamed

),

final as (

    select
        sfdc_opportunity_contact_role_id,
        sfdc_opportunity_id,
        sfdc_contact_id,
        contact_role,
        is_primary,
        is_deleted,
        created_at,
        updated_at,
        loaded_at,
        dlt_load_id

    from deduplicated
    where version_rank = 1

)

select * from final
