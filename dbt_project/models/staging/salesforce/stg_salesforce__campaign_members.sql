{%- set raw_columns = relation_column_names(source('salesforce', 'campaign_members')) -%}

with

source as (

    select * from {{ source('salesforce', 'campaign_members') }}

),

renamed as (

    select
        cast(id as {{ dbt.type_string() }}) as sfdc_campaign_member_id,
        {{ optional_text(raw_columns, 'campaign_id') }} as sfdc_campaign_id,
        {{ optional_text(raw_columns, 'lead_id') }} as sfdc_lead_id,
        {{ optional_text(raw_columns, 'contact_id') }} as sfdc_contact_id,
        {{ optional_text(raw_columns, 'status') }} as member_status,
        coalesce({{ optional_column(raw_columns, 'has_responded', 'boolean') }}, false) as has_responded,
        {{ sfdc_audit_columns(raw_columns) }}

    from source

),

-- a record re-read by a later load (lookback overlap) appears again: keep its latest version
deduplicated as (

    select
        *,
        {{ version_rank('sfdc_campaign_member_id') }} as version_rank

    from renamed

),

final as (

    select
        sfdc_campaign_member_id,
        sfdc_campaign_id,
        sfdc_lead_id,
        sfdc_contact_id,
        member_status,
        has_responded,
        is_deleted,
        created_at,
        updated_at,
        loaded_at,
        dlt_load_id

    from deduplicated
    where version_rank = 1

)

select * from final
