{%- set raw_columns = relation_column_names(source('marketo', 'leads')) -%}

with

source as (

    select * from {{ source('marketo', 'leads') }}

),

renamed as (

    select
        cast(id as bigint) as marketo_lead_id,
        nullif(lower(trim({{ optional_column(raw_columns, 'email', dbt.type_string()) }})), '') as email,
        nullif(trim({{ optional_column(raw_columns, 'first_name', dbt.type_string()) }}), '') as first_name,
        nullif(trim({{ optional_column(raw_columns, 'last_name', dbt.type_string()) }}), '') as last_name,
        nullif(trim({{ optional_column(raw_columns, 'company', dbt.type_string()) }}), '') as company_name,
        nullif(trim({{ optional_column(raw_columns, 'title', dbt.type_string()) }}), '') as job_title,
        nullif(trim({{ optional_column(raw_columns, 'industry', dbt.type_string()) }}), '') as industry,
        {{ optional_column(raw_columns, 'number_of_employees', 'integer') }} as number_of_employees,
        nullif(trim({{ optional_column(raw_columns, 'lead_source', dbt.type_string()) }}), '') as lead_source,
        coalesce({{ optional_column(raw_columns, 'unsubscribed', 'boolean') }}, false) as is_unsubscribed,
        coalesce({{ optional_column(raw_columns, 'email_invalid', 'boolean') }}, false) as is_email_invalid,
        {{ to_utc_timestamp(optional_column(raw_columns, 'created_at', 'timestamp with time zone')) }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        {{ dlt_loaded_at('_dlt_load_id') }} as loaded_at,
        cast(_dlt_load_id as {{ dbt.type_string() }}) as dlt_load_id

    from source

),

-- a lead re-extracted by a later load appears again: keep its latest version
deduplicated as (

    select
        *,
        row_number() over (
            partition by marketo_lead_id
            order by updated_at desc nulls last, dlt_load_id desc
        ) as version_rank

    from renamed

),

final as (

    select
        marketo_lead_id,
        email,
        first_name,
        last_name,
        company_name,
        job_title,
        industry,
        number_of_employees,
        lead_source,
        is_unsubscribed,
        is_email_invalid,
        created_at,
        updated_at,
        loaded_at,
        dlt_load_id

    from deduplicated
    where version_rank = 1

)

select * from final
