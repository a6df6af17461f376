{#-
    Text normalisation for identity resolution (docs/design.md, "The marts": dim_lead).

    nfkc(expr): Unicode NFKC, the same on every warehouse: PostgreSQL's
    normalize(..., nfkc); on DuckDB, which has only NFC, the function nurture_nfkc that
    the dbt-duckdb plugin nurture.transform.duckdb_nfkc registers (profiles.yml),
    Python's unicodedata.normalize('NFKC', ...). Full-width ＡＢＣ and spaces,
    half-width ｶﾀｶﾅ, ㈱ ㍿ and the other compatibility forms all fold alike, so both
    warehouses resolve the same people.
    to_half_width(expr): the name the identity macros use, = nfkc(expr).
-#}
{% macro nfkc(expr) -%}
    {{ return(adapter.dispatch('nfkc', 'nurture')(expr)) }}
{%- endmacro %}

{% macro default__nfkc(expr) -%}
    normalize({{ expr }}, nfkc)
{%- endmacro %}

{% macro duckdb__nfkc(expr) -%}
    nurture_nfkc({{ expr }})
{%- endmacro %}

{% macro to_half_width(expr) -%}
    {{ nfkc(expr) }}
{%- endmacro %}


{#-
    normalize_email(expr): half-width, lower case, surrounding whitespace removed;
    null when empty or not shaped like an address (no identity can hang on it).
-#}
{% macro normalize_email(expr) -%}
    case
        when
            lower(regexp_replace({{ to_half_width(expr) }}, '^\s+|\s+$', '', 'g'))
            like '%_@_%'
            then lower(regexp_replace({{ to_half_width(expr) }}, '^\s+|\s+$', '', 'g'))
    end
{%- endmacro %}


{#-
    normalize_company_name(expr): a match key for company names, not a display name.
    Half-width, lower case, Japanese legal forms removed wherever they stand
    (株式会社, 有限会社, 合同会社, 合資会社, 合名会社, (株), (有), (同)), English legal
    forms removed at the end (Inc., Co., Ltd., Corporation, Corp., Ltd., LLC, Limited,
    Co., K.K.), then every space and trailing punctuation removed; null when nothing
    is left. One regular expression serves RE2 (DuckDB) and PostgreSQL alike.
-#}
{% macro normalize_company_name(expr) -%}
    nullif(
        regexp_replace(
            regexp_replace(
                regexp_replace(
                    lower({{ to_half_width(expr) }}),
                    '株式会社|有限会社|合同会社|合資会社|合名会社|\(株\)|\(有\)|\(同\)',
                    '',
                    'g'
                ),
                '([\s,]+(co\.?,?\s*ltd\.?|inc\.?|corporation|corp\.?|ltd\.?|llc\.?|limited|co\.?|k\.?\s?k\.?))+[\s,.]*$',
                '',
                'g'
            ),
            '\s+|[,.]+$',
            '',
            'g'
        ),
        ''
    )
{%- endmacro %}
