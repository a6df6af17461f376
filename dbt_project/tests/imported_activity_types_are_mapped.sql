{#- Activity types of imported activity lists that neither the var imported_activity_types
    nor the seed marketo_activity_types knows (macro imported_activity_type): their rows
    are no touch in fct_engagement_events. A warning that lists them, so a new type is
    added to the mapping (or mapped to ~), never silently lost. -#}
{{ config(severity='warn') }}

select
    activities.activity_type,
    count(*) as activity_count

from {{ ref('stg_files__activities') }} as activities
where activities.activity_type is not null
    and {{ imported_activity_type('activities.activity_type') }} is null
group by activities.activity_type
