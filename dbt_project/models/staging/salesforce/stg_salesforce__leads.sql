{%- set raw_columns = relation_column_names(source('salesforce', 'leads')) -%}

with

source as (

    select * from {{ source('salesforce', 'leads') }}

),

renamed as (

    select
        cast(id as {{ dbt.type_string() }}) as sfdc_lead_id,
        nullif(lower(trim({{ optional_column(raw_columns, 'email', dbt.type_string()) }})), '') as email,
        nullif(trim({{ optional_column(raw_columns, 'first_name', dbt.type_string()) }}), '') as first_name,
        nullif(trim({{ optional_column(raw_columns, 'last_name', dbt.type_string()) }}), '') as last_name,
        nullif(trim({{ optional_column(raw_columns, 'company', dbt.type_string()) }}), '') as company_name,
        nullif(trim({{ optional_column(raw_columns, 'title', dbt.type_string()) }}), '') as job_title,
        nullif(trim({{ optional_column(raw_columns, 'industry', dbt.type_string()) }}), '') as industry,
        nullif(trim({{ optional_column(raw_columns, 'status', dbt.type_string()) }}), '') as lead_status,
        nullif(trim({{ optional_column(raw_columns, 'lead_source', dbt.type_string()) }}), '') as lead_source,
        nullif(trim({{ optional_column(raw_columns, 'owner_id', dbt.type_string()) }}), '') as sfdc_owner_id,
        {{ optional_column(raw_columns, 'number_of_employees', 'integer') }} as number_of_employees,
        coalesce({{ optional_column(raw_columns, 'is_converted', 'boolean') }}, false) as is_converted,
        {{ optional_column(raw_columns, 'converted_date', 'date') }} as converted_date,
        {{ optional_text(raw_columns, 'converted_account_id') }} as sfdc_converted_account_id,
        {{ optional_text(raw_columns, 'converted_contact_id') }} as sfdc_converted_contact_id,
        {{ optional_text(raw_columns, 'converted_opportunity_id') }} as sfdc_converted_opportunity_id,
        -- Nurture_Lead_Id__c: set only on leads Nurture handed over as MQL (docs/design.md, "Scoring and hand-off")
        {{ optional_text(raw_columns, 'nurture_lead_id__c') }} as nurture_lead_id,
        {{ optional_column(raw_columns, 'nurture_score__c', 'double precision') }} as nurture_score,
        {{ optional_text(raw_columns, 'nurture_grade__c') }} as nurture_grade,
        -- IsDeleted (recycle bin, merged away) is carried as a soft delete
        coalesce(cast(is_deleted as boolean), false) as is_deleted,
        {{ to_utc_timestamp(optional_column(raw_columns, 'created_date', 'timestamp with time zone')) }} as created_at,
        {{ to_utc_timestamp('system_modstamp') }} as updated_at,
        {{ dlt_loaded_at('_dlt_load_id') }} as loaded_at,
        cast(_dlt_load_id as {{ dbt.type_string() }}) as dlt_load_id

    from source

),

-- a lead re-read by a later load appears again: keep its latest version
deduplicated as (

    select
        *,
        row_number() over (
            partition by sfdc_lead_id
            order by updated_at desc nulls last, dlt_load_id desc
        ) as version_rank

    from renamed

),

final as (

    select
        sfdc_lead_id,
        email,
        first_name,
        last_name,
        company_name,
        job_title,
        industry,
        lead_status,
        lead_source,
        sfdc_owner_id,
        number_of_employees,
        is_converted,
        converted_date,
        sfdc_converted_account_id,
        sfdc_converted_contact_id,
        sfdc_converted_opportunity_id,
        nurture_lead_id,
        nurture_score,
        nurture_grade,
        is_deleted,
        created_at,
        updated_at,
        loaded_at,
        dlt_load_id

    from deduplicated
    where version_rank = 1

)

select * from final
