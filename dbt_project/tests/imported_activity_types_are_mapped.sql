{#- Activity types of imported activity lists that neither the var imported_activity_types
    nor the seed marketo_activity_types knows: their rows are no touch in
    fct_engagement_events. A warning that lists them, so a new type is added to the
    mapping (or mapped to ~), never silently lost. -#}
{{ config(severity='warn') }}

{%- set mapped = var('imported_activity_types').keys() | list -%}

select
    activities.activity_type,
    count(*) as activity_count

from {{ ref('stg_files__activities') }} as activities
where activities.activity_type is not null
    and activities.activity_type not in (
        {%- for text in mapped %}
        '{{ text | replace("'", "''") }}'{{ ',' if not loop.last }}
        {%- endfor %}
    )
    and not exists (
        select 1
        from {{ ref('marketo_activity_types') }} as named
        where lower(named.activity_type_name) = lower(activities.activity_type)
            or named.activity_type = lower(activities.activity_type)
    )
group by activities.activity_type
