-- one touch per person met in person, from the dropped files: a booth visit on a
-- trade-show list, a business card exchanged. The same person on two exports of one
-- event (a day-one list, then the full list) is one visit: the row loaded first stands
-- for it, so its event_id stays put as more exports arrive. And the touches of imported
-- activity lists (another tool's export), typed by macro imported_activity_type.

with

lead_records as (

    select * from {{ ref('int_lead_records_unioned') }}

),

file_rows as (

    select 'trade_show' as source_system, * from {{ ref('stg_files__trade_show') }}

    union all

    select 'business_card' as source_system, * from {{ ref('stg_files__business_cards') }}

),

people_met as (

    select
        file_rows.source_system,
        file_rows.file_row_id,
        lead_records.lead_id,
        file_rows.event_name,
        file_rows.owner_name,
        -- a file without a meeting date: the person was met no later than its import
        coalesce(cast(file_rows.met_date as timestamp), file_rows.loaded_at) as occurred_at,
        file_rows.loaded_at

    from file_rows
    inner join lead_records
        on lead_records.source_system = file_rows.source_system
        and lead_records.source_record_id = file_rows.file_row_id

),

activity_types as (

    select * from {{ ref('marketo_activity_types') }}

),

-- an imported activity's type as fct_engagement_events names it (null: no touch)
imported_typed as (

    select
        activities.imported_activity_id,
        lead_records.lead_id,
        activities.campaign_name,
        coalesce(activities.occurred_at, activities.loaded_at) as occurred_at,
        activities.loaded_at,
        nullif({{ imported_activity_type('activities.activity_type') }}, '') as activity_type

    from {{ ref('stg_files__activities') }} as activities
    inner join lead_records
        on lead_records.source_system = 'imported_lead'
        and lead_records.source_record_id = activities.imported_lead_key

),

imported_touches as (

    select
        {{ dbt.concat(["'imported_activity:'", "imported_typed.imported_activity_id"]) }} as event_id,
        imported_typed.lead_id,
        'imported_activity' as source_system,
        activity_types.channel,
        imported_typed.activity_type,
        activity_types.is_engagement_touch,
        imported_typed.campaign_name as event_name,
        cast(null as {{ dbt.type_string() }}) as owner_name,
        imported_typed.occurred_at,
        cast(imported_typed.occurred_at as date) as occurred_date,
        imported_typed.loaded_at

    from imported_typed
    inner join activity_types
        on activity_types.activity_type = imported_typed.activity_type
    where activity_types.is_touch

),

ranked as (

    select
        *,
        row_number() over (
            partition by source_system, lead_id, event_name, cast(occurred_at as date)
            order by loaded_at, file_row_id
        ) as visit_rank

    from people_met

),

final as (

    select
        {{ dbt.concat(["source_system", "':'", "file_row_id"]) }} as event_id,
        lead_id,
        source_system,
        'events' as channel,
        case source_system
            when 'trade_show' then 'visit_trade_show_booth'
            else 'exchange_business_cards'
        end as activity_type,
        -- the person came to the booth or met us: engagement by the lead
        true as is_engagement_touch,
        event_name,
        owner_name,
        occurred_at,
        cast(occurred_at as date) as occurred_date,
        loaded_at

    from ranked
    where visit_rank = 1

    union all

    select * from imported_touches

)

select * from final
