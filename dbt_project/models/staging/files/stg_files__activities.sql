{#- one row per imported activity of an imported lead (agency event lists, another
    tool's activity exports). The same activity in two imports is one activity; rows
    alike within one file (two page views in one minute) are as many activities, and
    a later, overlapping export that repeats them holds them as often. -#}
{%- set raw = source_or_empty('files', 'activities', {
    'file_sha256': dbt.type_string(),
    'row_number': 'bigint',
    'lead_key': dbt.type_string(),
    'activity_type': dbt.type_string(),
    '_dlt_load_id': dbt.type_string(),
}) -%}
{%- set raw_columns = relation_column_names(source('files', 'activities')) -%}

with

-- empty until the first activities list is imported
source as (

    select * from {{ raw }}

),

renamed as (

    select
        nullif(trim(cast(lead_key as {{ dbt.type_string() }})), '') as imported_lead_key,
        nullif(trim(cast(activity_type as {{ dbt.type_string() }})), '') as activity_type,
        cast(file_sha256 as {{ dbt.type_string() }}) as file_sha256,
        cast(row_number as bigint) as file_row_number,
        {{ optional_column(raw_columns, 'occurred_at', 'timestamp') }} as occurred_at,
        {{ optional_text(raw_columns, 'campaign') }} as campaign_name,
        {{ dlt_load_columns() }}

    from source

),

-- the n-th of the rows alike within its file
counted as (

    select
        *,
        row_number() over (
            partition by file_sha256, imported_lead_key, activity_type, occurred_at, campaign_name
            order by file_row_number
        ) as occurrence

    from renamed
    where imported_lead_key is not null

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by imported_lead_key, activity_type, occurred_at, campaign_name, occurrence
            order by dlt_load_id desc, file_row_number desc
        ) as version_rank

    from counted

),

final as (

    select
        {{ dbt.concat(["file_sha256", "':'", "cast(file_row_number as " ~ dbt.type_string() ~ ")"]) }}
            as imported_activity_id,
        imported_lead_key,
        activity_type,
        occurred_at,
        campaign_name,
        file_sha256,
        file_row_number,
        loaded_at,
        dlt_load_id

    from deduplicated
    where version_rank = 1

)

select * from final
