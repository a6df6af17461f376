-- one touch per person met in person, from the dropped files: a booth visit on a
-- trade-show list, a business card exchanged. The same person on two exports of one
-- event (a day-one list, then the full list) is one visit: the row loaded first stands
-- for it, so its event_id stays put as more exports arrive.
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

)

select * from final
