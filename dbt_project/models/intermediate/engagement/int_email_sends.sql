{%- set response_days = var('engagement_response_days') | int -%}

with

activities as (

    select * from {{ ref('int_activities_classified') }}

),

emails as (

    select * from {{ ref('stg_marketo__emails') }}

),

programs as (

    select * from {{ ref('stg_marketo__programs') }}

),

marketo_lead_keys as (

    select * from {{ ref('int_marketo_lead_people') }}

),

-- the activities of a mailing; one send is a lead x e-mail asset x campaign run
email_activities as (

    select
        marketo_lead_id,
        marketo_email_id,
        marketo_campaign_run_id,
        activity_type,
        bounce_category,
        variant,
        occurred_at,
        loaded_at

    from activities
    where
        marketo_email_id is not null
        and activity_type in (
            'send_email',
            'email_delivered',
            'email_bounced',
            'email_bounced_soft',
            'open_email',
            'click_email',
            'unsubscribe_email'
        )

),

-- what can answer a send besides a click on it: a form fill in the send's program or
-- on a page the send's click led to, or a reply to that e-mail (once the seed maps
-- a reply activity type to reply_email). A form in another program (a webinar
-- registration, a whitepaper download) answers no e-mail.
lead_responses as (

    select
        marketo_lead_id,
        activity_type,
        marketo_program_id,
        marketo_email_id,
        nullif(
            {{ dbt.split_part('coalesce(webpage_url, referrer_url)', "'?'", 1) }}, ''
        ) as page_url,
        occurred_at,
        loaded_at

    from activities
    where activity_type in ('fill_out_form', 'reply_email')

),

-- the pages the send's clicks led to (a form there answers the send)
clicked_pages as (

    select distinct
        marketo_lead_id,
        marketo_email_id,
        marketo_campaign_run_id,
        {{ dbt.split_part('link_url', "'?'", 1) }} as page_url

    from activities
    where
        activity_type = 'click_email'
        and marketo_email_id is not null
        and link_url is not null

),

aggregated as (

    select
        marketo_lead_id,
        marketo_email_id,
        marketo_campaign_run_id,
        min(case when activity_type = 'send_email' then occurred_at end) as sent_at,
        min(case when activity_type = 'email_delivered' then occurred_at end) as delivered_event_at,
        min(case when activity_type in ('email_bounced', 'email_bounced_soft') then occurred_at end)
            as bounced_at,
        -- Marketo's Email Bounced (8) is hard unless its category says soft; 27 is soft
        max(
            case
                when activity_type = 'email_bounced' and coalesce(lower(bounce_category), 'hard') <> 'soft'
                    then 1
                else 0
            end
        ) as hard_bounce_count,
        min(case when activity_type = 'open_email' then occurred_at end) as first_opened_at,
        sum(case when activity_type = 'open_email' then 1 else 0 end) as open_count,
        min(case when activity_type = 'click_email' then occurred_at end) as first_clicked_at,
        sum(case when activity_type = 'click_email' then 1 else 0 end) as click_count,
        min(case when activity_type = 'unsubscribe_email' then occurred_at end) as unsubscribed_at,
        max(variant) as activity_variant,
        max(occurred_at) as last_activity_at,
        max(loaded_at) as last_loaded_at

    from email_activities
    group by
        marketo_lead_id,
        marketo_email_id,
        marketo_campaign_run_id

),

anchored as (

    select
        *,
        -- an open or a click proves delivery when the Email Delivered activity is
        -- missing (paging gaps), unless the send bounced
        case
            when delivered_event_at is not null then delivered_event_at
            when bounced_at is null then coalesce(first_opened_at, first_clicked_at)
        end as delivered_at,
        -- the send the 7-day response window starts from
        coalesce(sent_at, delivered_event_at, bounced_at, first_opened_at, first_clicked_at, unsubscribed_at)
            as send_at

    from aggregated

),

-- first click on this mailing within the response window
clicks_in_window as (

    select
        anchored.marketo_lead_id,
        anchored.marketo_email_id,
        anchored.marketo_campaign_run_id,
        min(email_activities.occurred_at) as first_responded_click_at

    from anchored
    inner join email_activities
        on
            anchored.marketo_lead_id = email_activities.marketo_lead_id
            and anchored.marketo_email_id = email_activities.marketo_email_id
            and (
                anchored.marketo_campaign_run_id = email_activities.marketo_campaign_run_id
                or (anchored.marketo_campaign_run_id is null and email_activities.marketo_campaign_run_id is null)
            )
            and email_activities.activity_type = 'click_email'
            and email_activities.occurred_at >= anchored.send_at
            and email_activities.occurred_at <= {{ dbt.dateadd('day', response_days, 'anchored.send_at') }}
    group by
        anchored.marketo_lead_id,
        anchored.marketo_email_id,
        anchored.marketo_campaign_run_id

),

forms_in_window as (

    select
        anchored.marketo_lead_id,
        anchored.marketo_email_id,
        anchored.marketo_campaign_run_id,
        min(lead_responses.occurred_at) as first_responded_form_at,
        max(lead_responses.loaded_at) as last_response_loaded_at

    from anchored
    left join emails as send_emails
        on anchored.marketo_email_id = send_emails.marketo_email_id
    inner join lead_responses
        on
            anchored.marketo_lead_id = lead_responses.marketo_lead_id
            and lead_responses.occurred_at >= anchored.send_at
            and lead_responses.occurred_at <= {{ dbt.dateadd('day', response_days, 'anchored.send_at') }}
    left join clicked_pages
        on
            anchored.marketo_lead_id = clicked_pages.marketo_lead_id
            and anchored.marketo_email_id = clicked_pages.marketo_email_id
            and (
                anchored.marketo_campaign_run_id = clicked_pages.marketo_campaign_run_id
                or (anchored.marketo_campaign_run_id is null and clicked_pages.marketo_campaign_run_id is null)
            )
            and lead_responses.page_url = clicked_pages.page_url
    where
        (lead_responses.activity_type = 'reply_email' and lead_responses.marketo_email_id = anchored.marketo_email_id)
        or (
            lead_responses.activity_type = 'fill_out_form'
            and (
                lead_responses.marketo_program_id = send_emails.marketo_program_id
                or clicked_pages.page_url is not null
            )
        )
    group by
        anchored.marketo_lead_id,
        anchored.marketo_email_id,
        anchored.marketo_campaign_run_id

),

joined as (

    select
        anchored.marketo_lead_id,
        marketo_lead_keys.lead_id,
        anchored.marketo_email_id,
        anchored.marketo_campaign_run_id,
        emails.marketo_program_id,
        cast(emails.marketo_program_id as {{ dbt.type_string() }}) as campaign_id,
        {{ engagement_campaign_variant_key('anchored.marketo_email_id', 'emails.marketo_program_id') }}
            as campaign_variant_key,
        coalesce(emails.variant, upper(anchored.activity_variant), 'none') as variant,
        emails.creative_id,
        coalesce(emails.content_type, lower(programs.content_type)) as content_type,
        anchored.send_at,
        anchored.sent_at,
        anchored.delivered_at,
        anchored.bounced_at,
        anchored.first_opened_at,
        anchored.first_clicked_at,
        anchored.unsubscribed_at,
        anchored.open_count,
        anchored.click_count,
        anchored.hard_bounce_count,
        clicks_in_window.first_responded_click_at,
        forms_in_window.first_responded_form_at,
        anchored.last_activity_at,
        -- a late form fill changes the send: its load counts too
        case
            when forms_in_window.last_response_loaded_at > anchored.last_loaded_at
                then forms_in_window.last_response_loaded_at
            else anchored.last_loaded_at
        end as last_loaded_at

    from anchored
    left join marketo_lead_keys
        on anchored.marketo_lead_id = marketo_lead_keys.marketo_lead_id
    left join emails
        on anchored.marketo_email_id = emails.marketo_email_id
    left join programs
        on emails.marketo_program_id = programs.marketo_program_id
    left join clicks_in_window
        on
            anchored.marketo_lead_id = clicks_in_window.marketo_lead_id
            and anchored.marketo_email_id = clicks_in_window.marketo_email_id
            and (
                anchored.marketo_campaign_run_id = clicks_in_window.marketo_campaign_run_id
                or (anchored.marketo_campaign_run_id is null and clicks_in_window.marketo_campaign_run_id is null)
            )
    left join forms_in_window
        on
            anchored.marketo_lead_id = forms_in_window.marketo_lead_id
            and anchored.marketo_email_id = forms_in_window.marketo_email_id
            and (
                anchored.marketo_campaign_run_id = forms_in_window.marketo_campaign_run_id
                or (anchored.marketo_campaign_run_id is null and forms_in_window.marketo_campaign_run_id is null)
            )

),

final as (

    select
        {{ dbt.hash(dbt.concat([
            "cast(marketo_lead_id as " ~ dbt.type_string() ~ ")",
            "':'",
            "cast(marketo_email_id as " ~ dbt.type_string() ~ ")",
            "':'",
            "coalesce(cast(marketo_campaign_run_id as " ~ dbt.type_string() ~ "), 'none')",
        ])) }} as email_send_id,
        lead_id,
        marketo_lead_id,
        marketo_email_id,
        marketo_campaign_run_id,
        marketo_program_id,
        campaign_id,
        campaign_variant_key,
        variant,
        creative_id,
        content_type,
        send_at,
        cast(send_at as date) as send_date,
        sent_at,
        delivered_at,
        bounced_at,
        first_opened_at,
        first_clicked_at,
        unsubscribed_at,
        case
            when first_responded_click_at is null then first_responded_form_at
            when first_responded_form_at is null then first_responded_click_at
            when first_responded_form_at < first_responded_click_at then first_responded_form_at
            else first_responded_click_at
        end as first_responded_at,
        open_count,
        click_count,
        sent_at is not null as is_sent,
        delivered_at is not null as is_delivered,
        bounced_at is not null as is_bounced,
        hard_bounce_count > 0 as is_hard_bounced,
        first_opened_at is not null as is_opened,
        first_clicked_at is not null as is_clicked,
        unsubscribed_at is not null as is_unsubscribed,
        delivered_at is not null
        and (first_responded_click_at is not null or first_responded_form_at is not null)
            as is_responded_within_7_days,
        -- how many times the lead had been delivered this creative, this send included
        case
            when delivered_at is not null and creative_id is not null
                then row_number() over (
                    partition by marketo_lead_id, creative_id, delivered_at is not null
                    order by delivered_at, marketo_email_id, marketo_campaign_run_id
                )
        end as creative_exposure_number,
        last_activity_at,
        last_loaded_at

    from joined

)

select * from final
