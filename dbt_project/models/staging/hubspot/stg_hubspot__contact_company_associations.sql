{%- set raw_columns = relation_column_names(source('hubspot', 'contact_company_associations')) -%}

with

source as (

    select * from {{ source('hubspot', 'contact_company_associations') }}

),

renamed as (

    select
        {{ dbt.concat([
            "cast(contact_id as " ~ dbt.type_string() ~ ")", "'-'",
            "cast(company_id as " ~ dbt.type_string() ~ ")", "'-'",
            "cast(association_type_id as " ~ dbt.type_string() ~ ")",
        ]) }} as hubspot_association_id,
        cast(contact_id as {{ dbt.type_string() }}) as hubspot_contact_id,
        cast(company_id as {{ dbt.type_string() }}) as hubspot_company_id,
        cast(association_type_id as bigint) as association_type_id,
        {{ optional_text(raw_columns, 'association_category') }} as association_category,
        {{ optional_text(raw_columns, 'association_label') }} as association_label,
        {{ dlt_load_columns() }}

    from source
    -- removal markers (dlt's hard_delete hint) are applied by dlt, never stored; guard anyway
    where not coalesce({{ optional_column(raw_columns, 'removed', 'boolean') }}, false)

),

-- dlt replaces a contact's associations on every read (delete-insert on contact_id)
-- and removed ones are deleted, never stored: rows here are all current, the rank
-- only guards against a pair repeated within one load
deduplicated as (

    select
        *,
        {{ version_rank('hubspot_association_id', updated_at=none) }} as version_rank

    from renamed

),

final as (

    select
        hubspot_association_id,
        hubspot_contact_id,
        hubspot_company_id,
        association_type_id,
        association_category,
        association_label,
        -- HubSpot-defined type 1 is the contact's primary company
        association_type_id = 1 as is_primary,
        loaded_at,
        dlt_load_id

    from deduplicated
    where version_rank = 1

)

select * from final
