{#-
    to_utc_timestamp(expr): a `timestamp with time zone` (the raw contract) as a plain
    `timestamp` in UTC, independent of the session time zone, so `<event>_at`
    columns and the dates cut from them are the same on every adapter.
-#}
{% macro to_utc_timestamp(expr) -%}
    {{ return(adapter.dispatch('to_utc_timestamp', 'nurture')(expr)) }}
{%- endmacro %}

{% macro default__to_utc_timestamp(expr) -%}
    cast(({{ expr }}) at time zone 'UTC' as timestamp)
{%- endmacro %}


{#-
    dlt_loaded_at(load_id_column): dlt's `_dlt_load_id` is the load's start as Unix
    seconds in a string ("1718000000.123456"); this gives it as a UTC timestamp.
-#}
{% macro dlt_loaded_at(load_id_column='_dlt_load_id') -%}
    {{ to_utc_timestamp('to_timestamp(cast(' ~ load_id_column ~ ' as double precision))') }}
{%- endmacro %}
