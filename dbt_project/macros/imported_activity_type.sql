{#-
    imported_activity_type(text): the fct_engagement_events activity_type an imported
    activity list's type names: the var imported_activity_types first ('' for a type
    mapped to ~: known, not a touch), else the seed marketo_activity_types' own name or
    key (case ignored); null for a type neither knows. int_file_touches types the touches
    with it, and the warning test imported_activity_types_are_mapped lists its nulls.
-#}
{% macro imported_activity_type(text) -%}
    coalesce(
        case {{ text }}
            {%- for name, activity_type in var('imported_activity_types').items() %}
            when '{{ name | replace("'", "''") }}' then '{{ (activity_type or '') | replace("'", "''") }}'
            {%- endfor %}
        end,
        (
            select min(named.activity_type)
            from {{ ref('marketo_activity_types') }} as named
            where lower(named.activity_type_name) = lower({{ text }})
                or named.activity_type = lower({{ text }})
        )
    )
{%- endmacro %}
