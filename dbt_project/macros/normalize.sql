{#-
    Text normalisation for identity resolution (DESIGN.md, "Marts": dim_lead).

    to_half_width(expr): Unicode NFKC where the adapter has it (PostgreSQL 13+
    normalize(..., nfkc)); elsewhere (DuckDB) a translate() of the forms that
    matter for e-mails and company names: full-width ASCII U+FF01-FF5E, the
    ideographic space U+3000 and the no-break space, plus the enclosed ㈱/㈲.
-#}
{% macro to_half_width(expr) -%}
    {{ return(adapter.dispatch('to_half_width', 'nurture')(expr)) }}
{%- endmacro %}

{% macro default__to_half_width(expr) -%}
    replace(
        replace(
            translate(
                {{ expr }},
                '！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～　 ',
                '!"#$%&''()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~  '
            ),
            '㈱',
            '(株)'
        ),
        '㈲',
        '(有)'
    )
{%- endmacro %}

{% macro postgres__to_half_width(expr) -%}
    normalize({{ expr }}, nfkc)
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
