{#-
    Statistics for the A/B test mart (docs/design.md, "The marts": mart_ab_tests), in plain
    SQL (exp, sqrt, abs) so that DuckDB and PostgreSQL give the same numbers.

    stats_normal_upper_tail(x): 1 - Phi(|x|), the upper tail of the standard normal
    distribution at |x|, by Abramowitz & Stegun 26.2.17 (absolute error < 7.5e-8):
    phi(x) * (b1 t + b2 t^2 + b3 t^3 + b4 t^4 + b5 t^5) with t = 1 / (1 + p |x|).
-#}
{% macro stats_normal_upper_tail(x) -%}
    (
        exp(-0.5 * ({{ x }}) * ({{ x }})) / sqrt(2 * 3.14159265358979323846)
        * (
            (1.0 / (1.0 + 0.2316419 * abs({{ x }}))) * (0.319381530
            + (1.0 / (1.0 + 0.2316419 * abs({{ x }}))) * (-0.356563782
            + (1.0 / (1.0 + 0.2316419 * abs({{ x }}))) * (1.781477937
            + (1.0 / (1.0 + 0.2316419 * abs({{ x }}))) * (-1.821255978
            + (1.0 / (1.0 + 0.2316419 * abs({{ x }}))) * 1.330274429))))
        )
    )
{%- endmacro %}


{#- stats_normal_cdf(x): Phi(x), the standard normal cumulative distribution function. -#}
{% macro stats_normal_cdf(x) -%}
    (
        case
            when ({{ x }}) >= 0 then 1.0 - {{ stats_normal_upper_tail(x) }}
            else {{ stats_normal_upper_tail(x) }}
        end
    )
{%- endmacro %}


{#- stats_two_sided_p_value(z): 2 * (1 - Phi(|z|)), null when z is null. -#}
{% macro stats_two_sided_p_value(z) -%}
    (2.0 * {{ stats_normal_upper_tail(z) }})
{%- endmacro %}


{#-
    stats_round(expr, digits): expr rounded to digits decimals as double precision
    (PostgreSQL rounds only numeric; the decimal cast keeps 12 decimals on both).
-#}
{% macro stats_round(expr, digits) -%}
    cast(round(cast({{ expr }} as decimal(38, 12)), {{ digits }}) as double precision)
{%- endmacro %}


{#- stats_ratio(numerator, denominator): numerator / denominator as double precision, null for 0. -#}
{% macro stats_ratio(numerator, denominator) -%}
    cast({{ numerator }} as double precision) / nullif({{ denominator }}, 0)
{%- endmacro %}
