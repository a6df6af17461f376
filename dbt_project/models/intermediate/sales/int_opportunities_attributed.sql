with

opportunities as (

    select * from {{ ref('stg_salesforce__opportunities') }}

),

opportunity_history as (

    select * from {{ ref('stg_salesforce__opportunity_history') }}

),

contact_roles as (

    select * from {{ ref('stg_salesforce__opportunity_contact_roles') }}

),

salesforce_leads as (

    select * from {{ ref('stg_salesforce__leads') }}

),

lead_records as (

    select * from {{ ref('int_lead_records_unioned') }}

),

account_records as (

    select * from {{ ref('int_account_records_unioned') }}

),

-- the person behind each Salesforce lead and contact
sfdc_lead_people as (

    select
        source_record_id as sfdc_lead_id,
        lead_id

    from lead_records
    where source_system = 'salesforce'

),

sfdc_contact_people as (

    select
        source_record_id as sfdc_contact_id,
        lead_id

    from lead_records
    where source_system = 'salesforce_contact'

),

-- link 1: the lead converted into the opportunity (ConvertedOpportunityId)
converted_links as (

    select
        salesforce_leads.sfdc_converted_opportunity_id as sfdc_opportunity_id,
        sfdc_lead_people.lead_id,
        row_number() over (
            partition by salesforce_leads.sfdc_converted_opportunity_id
            order by salesforce_leads.is_deleted, salesforce_leads.converted_date, salesforce_leads.sfdc_lead_id
        ) as link_rank

    from salesforce_leads
    inner join sfdc_lead_people
        on salesforce_leads.sfdc_lead_id = sfdc_lead_people.sfdc_lead_id
    where salesforce_leads.sfdc_converted_opportunity_id is not null

),

-- link 2: OpportunityContactRole -> Contact -> person; the primary role first
contact_role_links as (

    select
        contact_roles.sfdc_opportunity_id,
        sfdc_contact_people.lead_id,
        row_number() over (
            partition by contact_roles.sfdc_opportunity_id
            order by
                case when contact_roles.is_primary then 0 else 1 end,
                contact_roles.created_at,
                contact_roles.sfdc_opportunity_contact_role_id
        ) as link_rank

    from contact_roles
    inner join sfdc_contact_people
        on contact_roles.sfdc_contact_id = sfdc_contact_people.sfdc_contact_id
    where not contact_roles.is_deleted

),

-- amount at creation: the first history entry (stage set on creation), else today's
first_history as (

    select
        sfdc_opportunity_id,
        amount,
        row_number() over (
            partition by sfdc_opportunity_id
            order by created_at, sfdc_opportunity_history_id
        ) as history_rank

    from opportunity_history
    where not is_deleted

),

closed_history as (

    select
        sfdc_opportunity_id,
        min(case when stage_name = 'Closed Won' then created_at end) as won_at,
        min(case when stage_name = 'Closed Lost' then created_at end) as lost_at

    from opportunity_history
    where not is_deleted
    group by sfdc_opportunity_id

),

salesforce_accounts as (

    select
        sfdc_account_id,
        account_id

    from account_records
    where source_system = 'salesforce'

),

final as (

    select
        opportunities.sfdc_opportunity_id,
        coalesce(converted_links.lead_id, contact_role_links.lead_id) as lead_id,
        case
            when converted_links.lead_id is not null then 'converted_lead'
            when contact_role_links.lead_id is not null then 'contact_role'
            else 'none'
        end as lead_link_method,
        salesforce_accounts.account_id,
        opportunities.sfdc_account_id,
        opportunities.opportunity_name,
        opportunities.opportunity_type,
        opportunities.stage_name,
        opportunities.lead_source,
        opportunities.sfdc_owner_id,
        coalesce(first_history.amount, opportunities.amount, 0) as amount_at_creation,
        coalesce(opportunities.amount, 0) as amount,
        opportunities.is_closed,
        opportunities.is_won,
        opportunities.created_at,
        -- the stage change that closed it; the close date when history is missing
        case
            when opportunities.is_closed
                then coalesce(
                    case when opportunities.is_won then closed_history.won_at else closed_history.lost_at end,
                    cast(opportunities.close_date as timestamp)
                )
        end as closed_at,
        opportunities.close_date,
        opportunities.is_deleted

    from opportunities
    left join converted_links
        on
            opportunities.sfdc_opportunity_id = converted_links.sfdc_opportunity_id
            and converted_links.link_rank = 1
    left join contact_role_links
        on
            opportunities.sfdc_opportunity_id = contact_role_links.sfdc_opportunity_id
            and contact_role_links.link_rank = 1
    left join first_history
        on
            opportunities.sfdc_opportunity_id = first_history.sfdc_opportunity_id
            and first_history.history_rank = 1
    left join closed_history
        on opportunities.sfdc_opportunity_id = closed_history.sfdc_opportunity_id
    left join salesforce_accounts
        on opportunities.sfdc_account_id = salesforce_accounts.sfdc_account_id

)

select * from final
