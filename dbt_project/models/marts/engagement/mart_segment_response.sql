with

email_sends as (

    select * from {{ ref('int_email_sends') }}

),

lead_engagement as (

    select * from {{ ref('mart_lead_engagement') }}

),

delivered_sends as (

    select
        email_send_id,
        lead_id,
        send_date,
        coalesce(content_type, 'unknown') as content_type,
        case when is_clicked then 1 else 0 end as is_clicked,
        case when is_unsubscribed then 1 else 0 end as is_unsubscribed

    from email_sends
    where is_delivered

),

-- the lead's band at send time: its latest snapshot before the send day (the
-- send's own day already counts the send as unanswered)
band_days as (

    select
        delivered_sends.email_send_id,
        max(lead_engagement.snapshot_date) as snapshot_date

    from delivered_sends
    inner join lead_engagement
        on
            delivered_sends.lead_id = lead_engagement.lead_id
            and lead_engagement.snapshot_date < delivered_sends.send_date
    group by delivered_sends.email_send_id

),

banded as (

    select
        delivered_sends.email_send_id,
        delivered_sends.lead_id,
        -- no snapshot before the send: the lead's first send (or unknown lead)
        coalesce(lead_engagement.engagement_band, 'new') as engagement_band,
        delivered_sends.content_type,
        cast({{ dbt.date_trunc('month', 'delivered_sends.send_date') }} as date) as send_month,
        delivered_sends.is_clicked,
        delivered_sends.is_unsubscribed

    from delivered_sends
    left join band_days
        on delivered_sends.email_send_id = band_days.email_send_id
    left join lead_engagement
        on
            delivered_sends.lead_id = lead_engagement.lead_id
            and band_days.snapshot_date = lead_engagement.snapshot_date

),

aggregated as (

    select
        engagement_band,
        content_type,
        send_month,
        count(distinct lead_id) as leads,
        count(*) as delivered,
        sum(is_clicked) as unique_clicks,
        sum(is_unsubscribed) as unsubscribes

    from banded
    group by
        engagement_band,
        content_type,
        send_month

),

final as (

    select
        {{ dbt.hash(dbt.concat([
            "engagement_band",
            "':'",
            "content_type",
            "':'",
            "cast(send_month as " ~ dbt.type_string() ~ ")",
        ])) }} as segment_response_key,
        engagement_band,
        content_type,
        send_month,
        cast(leads as bigint) as leads,
        cast(delivered as bigint) as delivered,
        cast(unique_clicks as bigint) as unique_clicks,
        cast(unsubscribes as bigint) as unsubscribes,
        -- rates over delivered sends; sends per lead is the month's send frequency
        {{ stats_round(stats_ratio('unique_clicks', 'delivered'), 6) }} as click_through_rate,
        {{ stats_round(stats_ratio('unsubscribes', 'delivered'), 6) }} as unsubscribe_rate,
        {{ stats_round(stats_ratio('delivered', 'leads'), 6) }} as sends_per_lead

    from aggregated

)

select * from final
