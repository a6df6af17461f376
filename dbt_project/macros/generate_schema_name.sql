{#-
    Custom schema names are used verbatim (staging, intermediate, marts, bi), not
    prefixed with the target schema: BI tools and the scoring task read fixed names
    (docs/contracts.md). Models without a custom schema fall back to the target schema.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
