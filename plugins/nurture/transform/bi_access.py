"""The read-only PostgreSQL role BI tools read the `bi` schema as (docs/bi.md).

`NURTURE_BI_ROLE` (default `nurture_bi`) names it everywhere: dbt grants it select on
each bi view it builds (the `grants` config of models/bi, applied in the transaction that
replaces the view) and USAGE on the schema after each run (on-run-end), so a rebuild
keeps BI's access; `nurture bi role` creates it and grants what already exists. It gets
nothing else: views run with their owner's rights, so it reads the marts through the
bi views only, and never raw_*, staging, intermediate, marts, ops, snapshots or the
pseudonyms. DuckDB has no roles: a DuckDB warehouse is read through its file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nurture.config import ConfigError, Settings

BI_SCHEMA = "bi"
PASSWORD_ENV = "NURTURE_BI_PASSWORD"
# schemas of PostgreSQL itself: what any role may read there says nothing about Nurture
_SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")


@dataclass(frozen=True)
class RoleReport:
    role: str
    created: bool
    login: bool
    views: int  # bi views the role can select from
    schema_exists: bool
    # relations outside bi the role can still select from (granted by hand, or to PUBLIC)
    readable_elsewhere: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        state = "created" if self.created else "exists"
        login = "LOGIN" if self.login else "NOLOGIN (grant it to the users BI tools log in as)"
        lines = [f"role {self.role}: {state}, {login}"]
        if self.schema_exists:
            lines.append(f"  reads: schema bi, {self.views} views (select); nothing else granted")
        else:
            lines.append("  schema bi does not exist yet: the next build grants its views")
        if self.readable_elsewhere:
            shown = ", ".join(self.readable_elsewhere[:10])
            more = len(self.readable_elsewhere) - 10
            lines.append(
                f"  WARNING: it can also read {len(self.readable_elsewhere)} relations outside "
                f"bi ({shown}{f', and {more} more' if more > 0 else ''}): revoke those grants"
            )
        lines.extend(f"  {note}" for note in self.notes)
        return "\n".join(lines)


def _require_postgres(settings: Settings) -> None:
    if settings.warehouse != "postgres":
        raise ConfigError(
            "The BI role is a PostgreSQL role and DuckDB has no roles: set "
            "NURTURE_WAREHOUSE=postgres (and NURTURE_PG_*) to create it on the PostgreSQL "
            "warehouse."
        )


def _connect(settings: Settings) -> Any:
    import psycopg

    pg = settings.postgres
    return psycopg.connect(
        host=pg.host,
        port=pg.port,
        user=pg.user,
        password=pg.password or None,
        dbname=pg.database,
        autocommit=True,
    )


def readable_outside_bi(con: Any, role: str) -> list[str]:
    """`schema.name` of every table, view or materialized view outside bi (and outside
    PostgreSQL's own schemas) that `role` may select from."""
    rows = con.execute(
        """
        select n.nspname || '.' || c.relname
        from pg_catalog.pg_class as c
        join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
        where c.relkind in ('r', 'v', 'm', 'p', 'f')
            and n.nspname <> %s
            and n.nspname <> all(%s)
            and n.nspname not like 'pg_temp%%'
            and has_schema_privilege(%s, n.oid, 'USAGE')
            and has_table_privilege(%s, c.oid, 'SELECT')
        order by 1
        """,
        [BI_SCHEMA, list(_SYSTEM_SCHEMAS), role, role],
    ).fetchall()
    return [name for (name,) in rows]


def ensure_bi_role(settings: Settings, login: bool = False, password: str = "") -> RoleReport:
    """Create the BI role if missing (NOLOGIN unless `login`), then grant it CONNECT on
    the warehouse database, USAGE on bi and select on every bi view. Idempotent."""
    import psycopg
    from psycopg import sql

    _require_postgres(settings)
    role = settings.bi_role
    notes: list[str] = []
    with _connect(settings) as con:
        current = con.execute("select current_user").fetchone()[0]
        if role == current:
            raise ConfigError(
                f"NURTURE_BI_ROLE is {role!r}, the user Nurture builds the warehouse as: "
                "choose another name for BI's read-only role."
            )
        existing = con.execute(
            "select rolsuper, rolcanlogin from pg_catalog.pg_roles where rolname = %s", [role]
        ).fetchone()
        if existing is not None and existing[0]:
            raise ConfigError(
                f"Role {role!r} is a superuser and reads everything: set NURTURE_BI_ROLE to "
                "another name for BI's read-only role."
            )
        ident = sql.Identifier(role)
        try:
            with con.transaction():
                if existing is None:
                    con.execute(
                        sql.SQL("create role {} {}").format(
                            ident, sql.SQL("login" if login else "nologin")
                        )
                    )
                elif login and not existing[1]:
                    con.execute(sql.SQL("alter role {} login").format(ident))
                if password:
                    # hashed here (SCRAM, as psql's \password does): the clear password never
                    # reaches the server, nor its statement log
                    verifier = con.pgconn.encrypt_password(password.encode(), role.encode(), None)
                    con.execute(
                        sql.SQL("alter role {} password {}").format(
                            ident, sql.Literal(verifier.decode())
                        )
                    )
                con.execute(
                    sql.SQL("grant connect on database {} to {}").format(
                        sql.Identifier(settings.postgres.database), ident
                    )
                )
                schema_exists = bool(
                    con.execute(
                        "select count(*) from pg_catalog.pg_namespace where nspname = %s",
                        [BI_SCHEMA],
                    ).fetchone()[0]
                )
                if schema_exists:
                    bi = sql.Identifier(BI_SCHEMA)
                    con.execute(sql.SQL("grant usage on schema {} to {}").format(bi, ident))
                    con.execute(
                        sql.SQL("grant select on all tables in schema {} to {}").format(bi, ident)
                    )
        except psycopg.errors.InsufficientPrivilege as exc:
            raise ConfigError(
                f"PostgreSQL user {current!r} may not create or grant to role {role!r} "
                f"({str(exc).strip().splitlines()[0]}): run `nurture bi role` as a user with "
                "CREATEROLE that owns the bi views, or have an administrator run the SQL in "
                "docs/bi.md."
            ) from exc
        views = 0
        if schema_exists:
            views = con.execute(
                """
                select count(*) from pg_catalog.pg_class as c
                join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
                where n.nspname = %s and c.relkind in ('v', 'm', 'r')
                    and has_table_privilege(%s, c.oid, 'SELECT')
                """,
                [BI_SCHEMA, role],
            ).fetchone()[0]
        can_login = login or bool(existing and existing[1])
        if can_login and not password:
            notes.append(
                f"no password set ({PASSWORD_ENV} is empty): set one with `\\password {role}` "
                "in psql unless the server trusts the BI host"
            )
        return RoleReport(
            role=role,
            created=existing is None,
            login=can_login,
            views=views,
            schema_exists=schema_exists,
            readable_elsewhere=readable_outside_bi(con, role),
            notes=notes,
        )
