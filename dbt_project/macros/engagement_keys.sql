{#-
    engagement_campaign_variant_key(marketo_email_id, marketo_program_id): the key of
    dim_campaign (one row per campaign x variant). An e-mail asset is one variant of
    its program and keys on its own id, so the key does not move when the asset's
    program arrives later; a program without e-mails keys on the program id.
-#}
{% macro engagement_campaign_variant_key(marketo_email_id, marketo_program_id) -%}
    case
        when {{ marketo_email_id }} is not null
            then {{ dbt.hash("'marketo_email:' || cast(" ~ marketo_email_id ~ " as " ~ dbt.type_string() ~ ")") }}
        when {{ marketo_program_id }} is not null
            then {{ dbt.hash("'marketo_program:' || cast(" ~ marketo_program_id ~ " as " ~ dbt.type_string() ~ ")") }}
    end
{%- endmacro %}
