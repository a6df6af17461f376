{#- one row per imported deal outcome (won or lost) of an imported lead: closed-deal
    lists kept in Excel. The same outcome in two imports (same lead, result, date and
    amount) is one outcome. -#}
{%- set raw = source_or_empty('files', 'outcomes', {
    'file_sha256': dbt.type_string(),
    'row_number': 'bigint',
    'lead_key': dbt.type_string(),
    'outcome': dbt.type_string(),
    '_dlt_load_id': dbt.type_string(),
}) -%}
{%- set raw_columns = relation_column_names(source('files', 'outcomes')) -%}

with

-- empty until the first outcomes list is imported
source as (

    select * from {{ raw }}

),

renamed as (

    select
        nullif(trim(cast(lead_key as {{ dbt.type_string() }})), '') as imported_lead_key,
        lower(trim(cast(outcome as {{ dbt.type_string() }}))) as outcome,
        cast(file_sha256 as {{ dbt.type_string() }}) as file_sha256,
        cast(row_number as bigint) as file_row_number,
        coalesce(
            cast({{ optional_column(raw_columns, 'outcome_on', 'date') }} as timestamp),
            {{ optional_column(raw_columns, 'outcome_at', 'timestamp') }}
        ) as outcome_at,
        {{ optional_column(raw_columns, 'amount', 'numeric(18, 2)') }} as amount,
        {{ optional_text(raw_columns, 'segment') }} as segment,
        {{ dlt_load_columns() }}

    from source

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by imported_lead_key, outcome, outcome_at, amount
            order by dlt_load_id desc, file_row_number desc
        ) as version_rank

    from renamed
    where imported_lead_key is not null
        and outcome in ('won', 'lost')

),

final as (

    select
        {{ dbt.concat(["file_sha256", "':'", "cast(file_row_number as " ~ dbt.type_string() ~ ")"]) }}
            as imported_outcome_id,
        imported_lead_key,
        outcome,
        outcome = 'won' as is_won,
        outcome_at,
        amount,
        segment,
        file_sha256,
        file_row_number,
        loaded_at,
        dlt_load_id

    from deduplicated
    where version_rank = 1

)

select * from final
