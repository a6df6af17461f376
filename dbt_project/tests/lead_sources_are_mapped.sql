{#- Lead sources the var lead_source_channels does not map: their leads fall back to
    the first touch's channel (else 'other') in mart_funnel. A warning that lists them,
    so a new value in an imported list is added to the mapping, never silently lost. -#}
{{ config(severity='warn') }}

{%- set mapped = var('lead_source_channels').keys() | list -%}

select
    lead_source,
    count(*) as lead_count

from {{ ref('dim_lead') }}
where lead_source is not null
    and lead_source not in (
        {%- for source in mapped %}
        '{{ source | replace("'", "''") }}'{{ ',' if not loop.last }}
        {%- endfor %}
    )
group by lead_source
