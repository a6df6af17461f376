with

leads as (

    select * from {{ ref('int_leads_identity_resolved') }}

),

account_records as (

    select * from {{ ref('int_account_records_unioned') }}

),

lead_funnel as (

    select * from {{ ref('int_lead_funnel_stages') }}

),

salesforce_users as (

    select * from {{ ref('stg_salesforce__users') }}

),

hubspot_owners as (

    select * from {{ ref('stg_hubspot__owners') }}

),

-- the person's company: the Salesforce Account of a contact or converted lead first,
-- then the account most of the person's live records name
lead_accounts as (

    select
        lead_id,
        account_id,
        row_number() over (
            partition by lead_id
            order by
                max(case when sfdc_account_id is not null then 1 else 0 end) desc,
                sum(case when is_deleted then 0 else 1 end) desc,
                count(*) desc,
                account_id
        ) as account_rank

    from account_records
    where source_system = 'lead_record'
    group by
        lead_id,
        account_id

),

accounts as (

    select
        account_id,
        max(number_of_employees) as number_of_employees

    from account_records
    group by account_id

),

final as (

    select
        leads.lead_id,
        leads.email,
        leads.email_domain,
        leads.marketo_lead_id,
        leads.hubspot_contact_id,
        leads.sfdc_lead_id,
        leads.sfdc_contact_id,
        leads.imported_lead_key,
        lead_accounts.account_id,
        leads.first_name,
        leads.last_name,
        leads.company_name,
        leads.company_name_normalized,
        leads.job_title,
        -- fit attributes (docs/design.md, "Scoring and hand-off": fit points)
        {{ people_seniority('leads.job_title') }} as seniority,
        coalesce(
            {{ people_department('leads.department') }},
            {{ people_department('leads.job_title') }}
        ) as department,
        leads.industry,
        leads.number_of_employees,
        {{ people_size_band('coalesce(leads.number_of_employees, accounts.number_of_employees)') }} as size_band,
        leads.lead_source,
        leads.lifecycle_stage,
        -- the furthest stage of lead -> mql -> sal -> sql -> opportunity -> customer
        -- the person reached (int_lifecycle_stage_history), and the latest entry
        -- including exits (recycled, disqualified, closed_lost)
        case
            when lead_funnel.is_won then 'customer'
            when lead_funnel.is_opportunity then 'opportunity'
            when lead_funnel.is_sql then 'sql'
            when lead_funnel.is_sal then 'sal'
            when lead_funnel.is_mql then 'mql'
            else 'lead'
        end as funnel_stage,
        coalesce(lead_funnel.current_stage, 'lead') as current_stage,
        lead_funnel.current_stage_entered_at,
        leads.sfdc_lead_status,
        leads.nurture_lead_id,
        coalesce(leads.sfdc_owner_id, leads.hubspot_owner_id) as owner_id,
        case
            when leads.sfdc_owner_id is not null then 'salesforce'
            when leads.hubspot_owner_id is not null then 'hubspot'
        end as owner_system,
        coalesce(
            salesforce_users.full_name,
            nullif(trim({{ dbt.concat(["coalesce(hubspot_owners.last_name, '')", "' '", "coalesce(hubspot_owners.first_name, '')"]) }}), '')
        ) as owner_name,
        leads.sfdc_owner_id,
        leads.hubspot_owner_id,
        leads.is_in_marketo,
        leads.is_in_hubspot,
        leads.is_in_salesforce,
        leads.is_sfdc_contact,
        leads.source_record_count,
        leads.sfdc_contact_count,
        leads.is_matched_by_name,
        leads.is_converted,
        leads.is_unsubscribed,
        leads.is_email_invalid,
        leads.is_deleted,
        leads.created_at,
        leads.updated_at

    from leads
    left join lead_accounts
        on
            leads.lead_id = lead_accounts.lead_id
            and lead_accounts.account_rank = 1
    left join accounts
        on lead_accounts.account_id = accounts.account_id
    left join lead_funnel
        on leads.lead_id = lead_funnel.lead_id
    left join salesforce_users
        on leads.sfdc_owner_id = salesforce_users.sfdc_user_id
    left join hubspot_owners
        on leads.hubspot_owner_id = hubspot_owners.hubspot_owner_id

)

select * from final
