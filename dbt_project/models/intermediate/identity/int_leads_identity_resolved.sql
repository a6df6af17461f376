{#-
    Best-known value of each attribute: taken from the highest-ranked record of the
    person that has it (live records first, then SFDC > HubSpot > Marketo, then the
    most recently updated). A Salesforce contact ranks above the lead it came from.
-#}
{%- set best_known_columns = [
    'first_name',
    'last_name',
    'company_name',
    'company_name_normalized',
    'job_title',
    'department',
    'industry',
    'number_of_employees',
    'lead_source',
    'lifecycle_stage',
    'sfdc_lead_status',
    'sfdc_owner_id',
    'hubspot_owner_id',
    'sfdc_account_id',
    'nurture_lead_id',
] -%}
{%- set source_id_columns = {
    'marketo': 'marketo_lead_id',
    'hubspot': 'hubspot_contact_id',
    'salesforce': 'sfdc_lead_id',
    'salesforce_contact': 'sfdc_contact_id',
} -%}

with

lead_records as (

    select * from {{ ref('int_lead_records_unioned') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by lead_id
            order by
                case when is_deleted then 1 else 0 end,
                source_priority,
                updated_at desc nulls last,
                source_record_id
        ) as record_rank

    from lead_records

),

attribute_ranks as (

    select
        *,
        {%- for column in best_known_columns %}
        min(case when {{ column }} is not null then record_rank end)
            over (partition by lead_id) as {{ column }}_rank,
        {%- endfor %}
        {%- for source_system, id_column in source_id_columns.items() %}
        min(case when source_system = '{{ source_system }}' then record_rank end)
            over (partition by lead_id) as {{ id_column }}_rank,
        {%- endfor %}
        min(case when source_system = 'imported_lead' then record_rank end)
            over (partition by lead_id) as imported_lead_key_rank

    from ranked

),

resolved as (

    select
        lead_id,
        max(email_normalized) as email,
        {%- for source_system, id_column in source_id_columns.items() %}
        max(case when record_rank = {{ id_column }}_rank then {{ id_column }} end) as {{ id_column }},
        {%- endfor %}
        -- the key of an imported lead list's row for the person (the best-ranked one)
        max(case when record_rank = imported_lead_key_rank then source_record_id end)
            as imported_lead_key,
        {%- for column in best_known_columns %}
        max(case when record_rank = {{ column }}_rank then {{ column }} end) as {{ column }},
        {%- endfor %}
        max(case when source_system = 'marketo' then 1 else 0 end) = 1 as is_in_marketo,
        max(case when source_system = 'hubspot' then 1 else 0 end) = 1 as is_in_hubspot,
        max(case when source_system = 'salesforce' then 1 else 0 end) = 1 as is_in_salesforce,
        max(case when source_system = 'salesforce_contact' then 1 else 0 end) = 1 as is_sfdc_contact,
        -- lead records (MA, CRM, SFA leads); Salesforce contacts and file rows apart
        cast(sum(case when source_system in ('marketo', 'hubspot', 'salesforce') then 1 else 0 end) as bigint) as source_record_count,
        cast(sum(case when source_system = 'salesforce_contact' then 1 else 0 end) as bigint) as sfdc_contact_count,
        max(case when identity_match = 'name_company' then 1 else 0 end) = 1 as is_matched_by_name,
        max(case when is_converted and not is_deleted then 1 else 0 end) = 1 as is_converted,
        -- one unsubscribe or hard bounce anywhere holds for the person
        max(case when is_unsubscribed then 1 else 0 end) = 1 as is_unsubscribed,
        max(case when is_email_invalid then 1 else 0 end) = 1 as is_email_invalid,
        -- a person is deleted only when every one of their records is
        min(case when is_deleted then 1 else 0 end) = 1 as is_deleted,
        min(created_at) as created_at,
        max(updated_at) as updated_at

    from attribute_ranks
    group by lead_id

),

final as (

    select
        lead_id,
        email,
        {{ dbt.split_part('email', "'@'", 2) }} as email_domain,
        marketo_lead_id,
        hubspot_contact_id,
        sfdc_lead_id,
        sfdc_contact_id,
        imported_lead_key,
        sfdc_account_id,
        first_name,
        last_name,
        company_name,
        company_name_normalized,
        job_title,
        department,
        industry,
        number_of_employees,
        lead_source,
        -- HubSpot's lifecycle stage where the CRM knows the person; otherwise a
        -- converted Salesforce lead is an opportunity and anyone else a lead
        coalesce(
            lifecycle_stage,
            case when is_converted then 'opportunity' else 'lead' end
        ) as lifecycle_stage,
        sfdc_lead_status,
        nurture_lead_id,
        sfdc_owner_id,
        hubspot_owner_id,
        is_in_marketo,
        is_in_hubspot,
        is_in_salesforce,
        is_sfdc_contact,
        source_record_count,
        sfdc_contact_count,
        is_matched_by_name,
        is_converted,
        is_unsubscribed,
        is_email_invalid,
        is_deleted,
        created_at,
        updated_at

    from resolved

)

select * from final
