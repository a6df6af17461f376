{#-
    Person and company attributes for identity resolution and fit (docs/design.md, "The marts":
    dim_lead, dim_account; "Scoring and hand-off": fit points).

    people_regexp_matches(expr, pattern): true when pattern (RE2 / POSIX subset shared
    by DuckDB and PostgreSQL) occurs in expr.
-#}
{% macro people_regexp_matches(expr, pattern) -%}
    {{ return(adapter.dispatch('people_regexp_matches', 'nurture')(expr, pattern)) }}
{%- endmacro %}

{% macro default__people_regexp_matches(expr, pattern) -%}
    regexp_matches({{ expr }}, '{{ pattern }}')
{%- endmacro %}

{% macro postgres__people_regexp_matches(expr, pattern) -%}
    ({{ expr }} ~ '{{ pattern }}')
{%- endmacro %}


{#-
    normalize_person_name(last_name, first_name): a match key for a full name, family
    name first (the Japanese order; English names are held the same way in the
    last/first fields): NFKC (macro nfkc, every warehouse), lower case, every space
    (ASCII, full-width, ideographic) and the separators ・ . , removed; null unless both
    parts are known (a bare family name is too weak to merge people on).
-#}
{% macro normalize_person_name(last_name, first_name) -%}
    case
        when nullif(trim({{ last_name }}), '') is not null
            and nullif(trim({{ first_name }}), '') is not null
            then nullif(
                regexp_replace(
                    lower({{ to_half_width(dbt.concat([last_name, first_name])) }}),
                    '[\s・.,]+',
                    '',
                    'g'
                ),
                ''
            )
    end
{%- endmacro %}


{#-
    people_seniority(title): seniority parsed from a job title in Japanese or English,
    most senior match first (取締役営業部長 is c_level, 本部長 is vp before 部長 is
    director). English abbreviations only match as whole words ("cto" is not in
    "director"). Values: c_level, vp, director, manager, staff, unknown (no title).
-#}
{% macro people_seniority(title) -%}
    {%- set t = 'lower(' ~ to_half_width(title) ~ ')' -%}
    case
        when {{ title }} is null then 'unknown'
        when {{ people_regexp_matches(t, '取締役|代表|社長|会長|役員|執行役員|cxo|chief|president|founder|(^|[^a-z])c[a-z]?[a-z]o([^a-z]|$)') }}
            then 'c_level'
        when {{ people_regexp_matches(t, '本部長|事業部長|統括|(^|[^a-z])(vp|svp|evp)([^a-z]|$)|vice president|head of') }}
            then 'vp'
        when {{ people_regexp_matches(t, '部長|director') }}
            then 'director'
        when {{ people_regexp_matches(t, '課長|室長|店長|次長|係長|マネージャ|manager|(^|[^a-z])lead([^a-z]|$)') }}
            then 'manager'
        else 'staff'
    end
{%- endmacro %}


{#-
    people_department(title): department read from a title or department field
    (営業部長 -> sales, VP Marketing -> marketing); null when nothing matches.
-#}
{% macro people_department(expr) -%}
    {%- set t = 'lower(' ~ to_half_width(expr) ~ ')' -%}
    case
        when {{ expr }} is null then null
        when {{ people_regexp_matches(t, 'マーケ|広報|宣伝|marketing|brand|(^|[^a-z])cmo([^a-z]|$)') }} then 'marketing'
        when {{ people_regexp_matches(t, '営業|販売|sales|buyer|購買|account exec') }} then 'sales'
        when {{ people_regexp_matches(t, '情報システム|情シス|security|セキュリティ|(^|[^a-z])(it|cio|ciso|cto)([^a-z]|$)') }} then 'it'
        when {{ people_regexp_matches(t, '開発|技術|エンジニア|engineer|developer|research|研究') }} then 'engineering'
        when {{ people_regexp_matches(t, '人事|human resources|(^|[^a-z])hr([^a-z]|$)') }} then 'human_resources'
        when {{ people_regexp_matches(t, '経理|財務|finance|accounting|(^|[^a-z])cfo([^a-z]|$)') }} then 'finance'
        when {{ people_regexp_matches(t, '総務|general affairs|operations|運用') }} then 'operations'
    end
{%- endmacro %}


{#-
    people_size_band(employees): the company size band of var('company_size_bands'),
    the last band whose lower bound the head count reaches; 'unknown' without one.
-#}
{% macro people_size_band(employees) -%}
    {%- set bands = var('company_size_bands') -%}
    case
        when {{ employees }} is null then 'unknown'
        {%- for band in bands | reverse %}
        when {{ employees }} >= {{ band['min_employees'] }} then '{{ band['band'] }}'
        {%- endfor %}
        else 'unknown'
    end
{%- endmacro %}


{#-
    people_domain(expr): a web domain from a URL, e-mail domain or domain field:
    lower case, scheme, "www." and path removed; null when empty.
-#}
{% macro people_domain(expr) -%}
    nullif(
        regexp_replace(
            regexp_replace(lower(trim({{ expr }})), '^[a-z]+://', ''),
            '^www\.|[/:?#].*$',
            '',
            'g'
        ),
        ''
    )
{%- endmacro %}
