{{
    config(
        materialized='incremental',
        unique_key='lead_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook=[
            "delete from {{ this }} as kept where not exists (select 1 from {{ ref('int_email_sends') }} as sends where sends.lead_id = kept.lead_id and sends.is_delivered)",
        ],
    )
}}

{%- set window_days = var('engagement_window_days') | int -%}
{%- set lookback_days = var('engagement_lookback_days') | int -%}

with

email_sends as (

    select * from {{ ref('int_email_sends') }}

),

-- 継続反応率 (docs/kpis.md): of the sends delivered to the lead in the trailing window,
-- the share responded to (click, form or reply within 7 days of the send); a
-- response counts from the day it happened, so a snapshot never knows the future
delivered_sends as (

    select
        lead_id,
        email_send_id,
        cast(delivered_at as date) as delivered_date,
        case when is_responded_within_7_days then cast(first_responded_at as date) end as responded_date,
        last_loaded_at

    from email_sends
    where is_delivered and lead_id is not null

),

-- the newest day the e-mail data covers: no snapshot lies beyond it
data_through as (

    select
        max(
            case
                when responded_date > delivered_date then responded_date
                else delivered_date
            end
        ) as data_through_date

    from delivered_sends

),

lead_loads as (

    select
        lead_id,
        max(last_loaded_at) as loaded_at

    from delivered_sends
    group by lead_id

),

-- snapshot days: the days the rate can change (a delivery, a response, a send
-- leaving the window); the band on any other day is that of the latest snapshot
change_days as (

    select
        lead_id,
        delivered_date as snapshot_date

    from delivered_sends

    union

    select
        lead_id,
        responded_date as snapshot_date

    from delivered_sends
    where responded_date is not null

    union

    select
        lead_id,
        cast({{ dbt.dateadd('day', window_days, 'delivered_date') }} as date) as snapshot_date

    from delivered_sends

),

bounded_days as (

    select
        change_days.lead_id,
        change_days.snapshot_date

    from change_days
    cross join data_through
    where change_days.snapshot_date <= data_through.data_through_date

),

{% if is_incremental() %}

existing_snapshots as (

    select
        lead_id,
        snapshot_date,
        lifetime_delivered_sends,
        loaded_at

    from {{ this }}

),

watermarks as (

    select
        max(loaded_at) as loaded_after,
        max(snapshot_date) as snapshot_through

    from existing_snapshots

),

-- deliveries up to the table's newest snapshot, now and as the table has them:
-- they differ when sends moved between leads (identity changed) or the lead is new
current_delivery_counts as (

    select
        delivered_sends.lead_id,
        count(*) as lifetime_delivered_sends

    from delivered_sends
    cross join watermarks
    where delivered_sends.delivered_date <= watermarks.snapshot_through
    group by delivered_sends.lead_id

),

stored_delivery_counts as (

    select
        lead_id,
        max(lifetime_delivered_sends) as lifetime_delivered_sends

    from existing_snapshots
    group by lead_id

),

-- rebuild every snapshot of a lead whose sends changed (late data within the
-- lookback), who gained a snapshot day past the table's newest, or whose
-- deliveries differ from the table's (identity changed, new lead); the post-hook
-- drops lead_ids that are gone
leads_to_build as (

    select lead_loads.lead_id

    from lead_loads
    cross join watermarks
    where
        watermarks.loaded_after is null
        or lead_loads.loaded_at > watermarks.loaded_after

    union

    select bounded_days.lead_id

    from bounded_days
    cross join watermarks
    where bounded_days.snapshot_date > watermarks.snapshot_through

    union

    select coalesce(current_delivery_counts.lead_id, stored_delivery_counts.lead_id) as lead_id

    from current_delivery_counts
    full outer join stored_delivery_counts
        on current_delivery_counts.lead_id = stored_delivery_counts.lead_id
    where
        current_delivery_counts.lifetime_delivered_sends
        is distinct from stored_delivery_counts.lifetime_delivered_sends

),

{% endif %}

snapshot_days as (

    select
        bounded_days.lead_id,
        bounded_days.snapshot_date

    from bounded_days
    {%- if is_incremental() %}
    where bounded_days.lead_id in (select lead_id from leads_to_build)
    {%- endif %}

),

windowed as (

    select
        snapshot_days.lead_id,
        snapshot_days.snapshot_date,
        count(delivered_sends.email_send_id) as delivered_sends_in_window,
        sum(
            case when delivered_sends.responded_date <= snapshot_days.snapshot_date then 1 else 0 end
        ) as responded_sends_in_window

    from snapshot_days
    left join delivered_sends
        on
            snapshot_days.lead_id = delivered_sends.lead_id
            and delivered_sends.delivered_date <= snapshot_days.snapshot_date
            and delivered_sends.delivered_date
            > cast({{ dbt.dateadd('day', -window_days, 'snapshot_days.snapshot_date') }} as date)
    group by
        snapshot_days.lead_id,
        snapshot_days.snapshot_date

),

lifetime as (

    select
        snapshot_days.lead_id,
        snapshot_days.snapshot_date,
        count(*) as lifetime_delivered_sends

    from snapshot_days
    inner join delivered_sends
        on
            snapshot_days.lead_id = delivered_sends.lead_id
            and delivered_sends.delivered_date <= snapshot_days.snapshot_date
    group by
        snapshot_days.lead_id,
        snapshot_days.snapshot_date

),

rated as (

    select
        *,
        {{ stats_ratio('responded_sends_in_window', 'delivered_sends_in_window') }}
            as continuous_response_rate

    from windowed

),

final as (

    select
        rated.lead_id,
        rated.snapshot_date,
        cast(rated.delivered_sends_in_window as bigint) as delivered_sends_in_window,
        cast(coalesce(rated.responded_sends_in_window, 0) as bigint) as responded_sends_in_window,
        {{ stats_round('rated.continuous_response_rate', 6) }} as continuous_response_rate,
        -- bands (docs/kpis.md): dormant 0 (or nothing delivered in the window),
        -- light < 0.3, engaged < 0.6, fan >= 0.6
        case
            when coalesce(rated.continuous_response_rate, 0) = 0 then 'dormant'
            when rated.continuous_response_rate < 0.3 then 'light'
            when rated.continuous_response_rate < 0.6 then 'engaged'
            else 'fan'
        end as engagement_band,
        cast(lifetime.lifetime_delivered_sends as bigint) as lifetime_delivered_sends,
        lead_loads.loaded_at

    from rated
    inner join lifetime
        on
            rated.lead_id = lifetime.lead_id
            and rated.snapshot_date = lifetime.snapshot_date
    inner join lead_loads
        on rated.lead_id = lead_loads.lead_id

)

select * from final
