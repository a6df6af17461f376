{%- set raw_columns = relation_column_names(source('marketo', 'activities')) -%}

with

source as (

    select * from {{ source('marketo', 'activities') }}

),

renamed as (

    select
        cast(marketo_guid as {{ dbt.type_string() }}) as marketo_activity_guid,
        {{ optional_column(raw_columns, 'id', 'bigint') }} as marketo_activity_id,
        cast(lead_id as bigint) as marketo_lead_id,
        cast(activity_type_id as bigint) as marketo_activity_type_id,
        {{ optional_column(raw_columns, 'campaign_id', 'bigint') }} as marketo_campaign_id,
        {{ optional_column(raw_columns, 'primary_attribute_value_id', 'bigint') }} as primary_attribute_value_id,
        {{ optional_column(raw_columns, 'primary_attribute_value', dbt.type_string()) }} as primary_attribute_value,
        {{ optional_column(raw_columns, 'mailing_id', 'bigint') }} as marketo_email_id,
        {{ optional_column(raw_columns, 'link', dbt.type_string()) }} as link_url,
        {{ optional_column(raw_columns, 'webpage_url', dbt.type_string()) }} as webpage_url,
        {{ optional_column(raw_columns, 'referrer_url', dbt.type_string()) }} as referrer_url,
        {{ optional_column(raw_columns, 'query_parameters', dbt.type_string()) }} as query_parameters,
        {{ optional_column(raw_columns, 'variant', dbt.type_string()) }} as variant,
        {{ optional_column(raw_columns, 'campaign_run_id', 'bigint') }} as marketo_campaign_run_id,
        {{ optional_column(raw_columns, 'program_id', 'bigint') }} as marketo_program_id,
        -- the channel of the activity's program, however the attribute is named
        coalesce(
            {{ optional_column(raw_columns, 'program_channel', dbt.type_string()) }},
            {{ optional_column(raw_columns, 'channel', dbt.type_string()) }}
        ) as program_channel,
        {{ optional_column(raw_columns, 'new_status', dbt.type_string()) }} as program_status,
        {{ optional_column(raw_columns, 'old_status', dbt.type_string()) }} as previous_program_status,
        {{ optional_column(raw_columns, 'category', dbt.type_string()) }} as bounce_category,
        {{ optional_column(raw_columns, 'form_name', dbt.type_string()) }} as form_name,
        {{ to_utc_timestamp('activity_date') }} as occurred_at,
        {{ dlt_loaded_at('_dlt_load_id') }} as loaded_at,
        cast(_dlt_load_id as {{ dbt.type_string() }}) as dlt_load_id

    from source

),

-- paging can hand the same activity over twice and loads overlap: keep the latest copy
deduplicated as (

    select
        *,
        row_number() over (
            partition by marketo_activity_guid
            order by dlt_load_id desc
        ) as version_rank

    from renamed

),

final as (

    select
        marketo_activity_guid,
        marketo_activity_id,
        marketo_lead_id,
        marketo_activity_type_id,
        marketo_campaign_id,
        primary_attribute_value_id,
        primary_attribute_value,
        marketo_email_id,
        link_url,
        webpage_url,
        referrer_url,
        query_parameters,
        variant,
        marketo_campaign_run_id,
        marketo_program_id,
        program_channel,
        program_status,
        previous_program_status,
        bounce_category,
        form_name,
        occurred_at,
        cast(occurred_at as date) as occurred_date,
        loaded_at,
        dlt_load_id

    from deduplicated
    where version_rank = 1

)

select * from final
