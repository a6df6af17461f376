{#- one row per imported lead key: lead lists exported from another MA or a form tool.
    The same key in a later import is the same lead, its latest row wins. -#}
{%- set raw = source_or_empty('files', 'leads', {
    'file_sha256': dbt.type_string(),
    'row_number': 'bigint',
    'lead_key': dbt.type_string(),
    '_dlt_load_id': dbt.type_string(),
}) -%}
{%- set raw_columns = relation_column_names(source('files', 'leads')) -%}

with

-- empty until the first lead list is imported
source as (

    select * from {{ raw }}

),

renamed as (

    select
        nullif(trim(cast(lead_key as {{ dbt.type_string() }})), '') as imported_lead_key,
        cast(file_sha256 as {{ dbt.type_string() }}) as file_sha256,
        cast(row_number as bigint) as file_row_number,
        {{ optional_text(raw_columns, 'email', lower=true) }} as email,
        coalesce(
            {{ optional_column(raw_columns, 'created_at', 'timestamp') }},
            cast({{ optional_column(raw_columns, 'created_on', 'date') }} as timestamp)
        ) as created_at,
        {{ optional_text(raw_columns, 'source') }} as lead_source,
        {{ optional_text(raw_columns, 'landing_page') }} as landing_page,
        {{ optional_text(raw_columns, 'company') }} as company_name,
        {{ optional_text(raw_columns, 'industry') }} as industry,
        {{ optional_column(raw_columns, 'employees', 'integer') }} as number_of_employees,
        {{ optional_text(raw_columns, 'title') }} as job_title,
        {{ optional_text(raw_columns, 'extra') }} as extra_json,
        {{ dlt_load_columns() }}

    from source

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by imported_lead_key
            order by dlt_load_id desc, file_row_number desc
        ) as version_rank

    from renamed
    where imported_lead_key is not null

),

final as (

    select
        imported_lead_key,
        file_sha256,
        file_row_number,
        email,
        created_at,
        lead_source,
        landing_page,
        company_name,
        industry,
        number_of_employees,
        job_title,
        extra_json,
        loaded_at,
        dlt_load_id

    from deduplicated
    where version_rank = 1

)

select * from final
