{#-
    stg_file_rows(kind): the staging model of one dropped-file kind (raw_files.<kind>,
    docs/contracts.md "Dropped files"). Every kind table has the same columns, so
    stg_files__trade_show and stg_files__business_cards share this one body.
    The importer already trimmed, NFKC-normalised and lower-cased e-mails and kept
    leading zeros of phone and postal codes: staging renames and types only.
-#}
{% macro stg_file_rows(kind) -%}
{%- set raw = source_or_empty('files', kind, {
    'file_sha256': dbt.type_string(),
    'row_number': 'bigint',
    'email': dbt.type_string(),
    '_dlt_load_id': dbt.type_string(),
}) -%}
{%- set raw_columns = relation_column_names(source('files', kind)) -%}

with

-- empty until the first file of this kind is imported
source as (

    select * from {{ raw }}

),

renamed as (

    select
        {{ dbt.concat([
            "cast(file_sha256 as " ~ dbt.type_string() ~ ")",
            "':'",
            "cast(row_number as " ~ dbt.type_string() ~ ")",
        ]) }} as file_row_id,
        cast(file_sha256 as {{ dbt.type_string() }}) as file_sha256,
        cast(row_number as bigint) as file_row_number,
        nullif(lower(trim(cast(email as {{ dbt.type_string() }}))), '') as email,
        {{ optional_text(raw_columns, 'last_name') }} as last_name,
        {{ optional_text(raw_columns, 'first_name') }} as first_name,
        {{ optional_text(raw_columns, 'full_name') }} as full_name,
        {{ optional_text(raw_columns, 'last_name_kana') }} as last_name_kana,
        {{ optional_text(raw_columns, 'first_name_kana') }} as first_name_kana,
        {{ optional_text(raw_columns, 'company') }} as company_name,
        {{ optional_text(raw_columns, 'department') }} as department,
        {{ optional_text(raw_columns, 'title') }} as job_title,
        {{ optional_text(raw_columns, 'phone') }} as phone,
        {{ optional_text(raw_columns, 'mobile') }} as mobile_phone,
        {{ optional_text(raw_columns, 'postal_code') }} as postal_code,
        {{ optional_text(raw_columns, 'address') }} as address,
        {{ optional_text(raw_columns, 'url') }} as website_url,
        {{ optional_column(raw_columns, 'met_on', 'date') }} as met_date,
        {{ optional_text(raw_columns, 'event_name') }} as event_name,
        {{ optional_text(raw_columns, 'owner') }} as owner_name,
        {{ optional_text(raw_columns, 'note') }} as note,
        {{ optional_text(raw_columns, 'extra') }} as extra_json,
        {{ dlt_load_columns() }}

    from source

),

-- a file imported again (same sha256) brings its rows again: keep the latest load
deduplicated as (

    select
        *,
        {{ version_rank(['file_sha256', 'file_row_number'], updated_at=none) }} as version_rank

    from renamed

),

final as (

    select
        file_row_id,
        file_sha256,
        file_row_number,
        email,
        last_name,
        first_name,
        full_name,
        last_name_kana,
        first_name_kana,
        company_name,
        department,
        job_title,
        phone,
        mobile_phone,
        postal_code,
        address,
        website_url,
        met_date,
        event_name,
        owner_name,
        note,
        extra_json,
        loaded_at,
        dlt_load_id

    from deduplicated
    where version_rank = 1

)

select * from final
{%- endmacro %}
