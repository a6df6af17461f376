{#-
    Read-only access to the bi schema for BI tools (docs/bi.md), PostgreSQL only (DuckDB
    has no roles: BI tools read the warehouse file itself).

    bi_role(): the role BI tools read bi as, NURTURE_BI_ROLE (default nurture_bi), the
    same variable Nurture's settings and `nurture bi role` read. The bi models grant it
    select (`+grants` on models/bi in dbt_project.yml), so every rebuild of a view
    grants it again in the transaction that replaces the view.
-#}
{% macro bi_role() -%}
    {%- set role = env_var('NURTURE_BI_ROLE', 'nurture_bi') | trim -%}
    {%- if not modules.re.fullmatch('[a-z_][a-z0-9_]{0,62}', role) -%}
        {{ exceptions.raise_compiler_error(
            "NURTURE_BI_ROLE must be a lower-case PostgreSQL role name (letters, digits and _), not '"
            ~ role ~ "'."
        ) }}
    {%- endif -%}
    {{ return(role) }}
{%- endmacro %}


{#-
    dbt's grant statement, PostgreSQL: a role that does not exist (yet) is skipped
    instead of failing the build, so a warehouse without the BI role builds as before;
    `nurture bi role` creates the role and grants what already exists, and every build
    after it grants each view it replaces. dbt looks for this macro in the project
    before its own (adapter.dispatch, namespace dbt).
-#}
{% macro postgres__get_grant_sql(relation, privilege, grantees) -%}
    do $nurture_grant$
    begin
    {%- for grantee in grantees %}
        if exists (select from pg_catalog.pg_roles where rolname = '{{ grantee | replace("'", "''") }}') then
            grant {{ privilege }} on {{ relation.render() }} to {{ adapter.quote(grantee) }};
        end if;
    {%- endfor %}
    end
    $nurture_grant$
{%- endmacro %}


{#-
    on-run-end (dbt_project.yml): USAGE on the bi schema for the BI role, PostgreSQL
    only, when both exist and the role lacks it (a grant only when needed: two builds
    granting at once could collide). Nothing else: the role reads no other schema.
-#}
{% macro bi_schema_usage() -%}
    {%- if target.type == 'postgres' -%}
        {%- set role = bi_role() -%}
        do $nurture_bi_usage$
        begin
            if exists (select from pg_catalog.pg_roles where rolname = '{{ role }}')
                and exists (select from pg_catalog.pg_namespace where nspname = 'bi')
                and not has_schema_privilege('{{ role }}', 'bi', 'USAGE')
            then
                grant usage on schema bi to {{ adapter.quote(role) }};
            end if;
        end
        $nurture_bi_usage$
    {%- endif -%}
{%- endmacro %}
