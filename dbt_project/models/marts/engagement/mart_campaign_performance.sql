with

email_sends as (

    select * from {{ ref('int_email_sends') }}

),

-- one send = one campaign run of one e-mail variant (docs/design.md, "The marts")
aggregated as (

    select
        campaign_variant_key,
        campaign_id,
        marketo_email_id,
        marketo_campaign_run_id,
        variant,
        creative_id,
        content_type,
        min(send_at) as first_sent_at,
        count(*) as recipients,
        sum(case when is_sent then 1 else 0 end) as sent,
        sum(case when is_delivered then 1 else 0 end) as delivered,
        sum(case when is_bounced then 1 else 0 end) as bounces,
        sum(case when is_hard_bounced then 1 else 0 end) as hard_bounces,
        sum(open_count) as opens,
        sum(case when is_opened then 1 else 0 end) as unique_opens,
        sum(click_count) as clicks,
        sum(case when is_clicked then 1 else 0 end) as unique_clicks,
        sum(case when is_unsubscribed then 1 else 0 end) as unsubscribes,
        sum(case when is_responded_within_7_days then 1 else 0 end) as responses_within_7_days

    from email_sends
    group by
        campaign_variant_key,
        campaign_id,
        marketo_email_id,
        marketo_campaign_run_id,
        variant,
        creative_id,
        content_type

),

final as (

    select
        {{ dbt.hash(dbt.concat([
            "campaign_variant_key",
            "':'",
            "coalesce(cast(marketo_campaign_run_id as " ~ dbt.type_string() ~ "), 'none')",
        ])) }} as campaign_send_key,
        campaign_variant_key,
        campaign_id,
        marketo_email_id,
        marketo_campaign_run_id,
        variant,
        creative_id,
        content_type,
        first_sent_at,
        cast(first_sent_at as date) as send_date,
        cast(recipients as bigint) as recipients,
        cast(sent as bigint) as sent,
        cast(delivered as bigint) as delivered,
        cast(bounces as bigint) as bounces,
        cast(hard_bounces as bigint) as hard_bounces,
        cast(opens as bigint) as opens,
        cast(unique_opens as bigint) as unique_opens,
        cast(clicks as bigint) as clicks,
        cast(unique_clicks as bigint) as unique_clicks,
        cast(unsubscribes as bigint) as unsubscribes,
        cast(responses_within_7_days as bigint) as responses_within_7_days,
        -- rates: delivered is the denominator of everything the recipient did,
        -- recipients (every lead the send reached or tried to) of bounces
        {{ stats_ratio('bounces', 'recipients') }} as bounce_rate,
        {{ stats_ratio('unique_opens', 'delivered') }} as open_rate,
        {{ stats_ratio('unique_clicks', 'delivered') }} as click_through_rate,
        {{ stats_ratio('unique_clicks', 'unique_opens') }} as click_to_open_rate,
        -- 配信停止率 (docs/kpis.md): unsubscribes / delivered
        {{ stats_ratio('unsubscribes', 'delivered') }} as unsubscribe_rate,
        {{ stats_ratio('responses_within_7_days', 'delivered') }} as response_rate

    from aggregated

)

select * from final
