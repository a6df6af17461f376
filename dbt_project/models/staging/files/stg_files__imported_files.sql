{%- set raw = source_or_empty('files', 'imported_files', {
    'sha256': dbt.type_string(),
    '_dlt_load_id': dbt.type_string(),
}) -%}
{%- set raw_columns = relation_column_names(source('files', 'imported_files')) -%}

with

-- empty until the first file is dropped
source as (

    select * from {{ raw }}

),

renamed as (

    select
        cast(sha256 as {{ dbt.type_string() }}) as file_sha256,
        {{ optional_text(raw_columns, 'name') }} as file_name,
        {{ optional_text(raw_columns, 'kind') }} as file_kind,
        -- null when the file could not be decoded (rejected whole)
        {{ optional_text(raw_columns, 'encoding') }} as encoding,
        coalesce({{ optional_column(raw_columns, 'rows', 'bigint') }}, 0) as loaded_row_count,
        coalesce({{ optional_column(raw_columns, 'quarantined', 'bigint') }}, 0) as quarantined_row_count,
        {{ to_utc_timestamp(optional_column(raw_columns, 'imported_at', 'timestamp with time zone')) }} as imported_at,
        {{ optional_text(raw_columns, 'run_id') }} as import_run_id,
        {{ dlt_load_columns() }}

    from source

),

-- a file dropped again is recognised by its sha256: keep its latest import
deduplicated as (

    select
        *,
        {{ version_rank('file_sha256', 'imported_at') }} as version_rank

    from renamed

),

final as (

    select
        file_sha256,
        file_name,
        file_kind,
        encoding,
        loaded_row_count,
        quarantined_row_count,
        imported_at,
        import_run_id,
        loaded_at,
        dlt_load_id

    from deduplicated
    where version_rank = 1

)

select * from final
