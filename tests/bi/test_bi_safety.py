"""The bi schema is safe to hand to sales and BI, on a real build of the whole project.

The raw fixture world (tests/dbt/dbt_raw_fixtures.py) is built the way the build_marts
DAG builds it (`build_layers`: staging, marts, the pseudonym step, bi) on DuckDB and on
a throw-away PostgreSQL database. On PostgreSQL the BI role is created with
`nurture bi role`, the project is rebuilt with `--full-refresh`, and the checks connect
as that role: every bi view readable, every other schema's tables refused.

Pseudonyms: no bi value is md5 or sha256 of an e-mail or of lead_id (nor lead_id
itself); lead_key is HMAC-SHA256(key, lead_id) and the same on both warehouses; a
rotated key changes every pseudonym; no key is one clear error; the key is in no view
definition, compiled SQL, log or warehouse file.

On the code before these checks each warehouse test fails: bi.dim_lead published
lead_id, md5 and sha256 of the e-mail, there was no `nurture bi role`, and a rebuild
dropped whatever had been granted by hand on the views.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from nurture.cli import main
from nurture.config import Settings
from nurture.transform.bi_access import readable_outside_bi
from nurture.transform.dbt import dbt_env
from nurture.transform.layers import LAYERS, build_layers
from nurture.transform.pseudonyms import (
    MISSING_KEY,
    PseudonymKeyError,
    key_fingerprint,
    pseudonymise,
)
from nurture.warehouse import get_warehouse
from tests.conftest import PG, _admin_connect, scratch_database, settings_for
from tests.dbt.dbt_raw_fixtures import (
    build_world,
    normalize_email,
    write_duckdb,
    write_postgres,
)

# the tests' own keys, set explicitly (never the demo key)
KEY = "tests-bi-pseudonym-key-0123456789abcdef"
ROTATED_KEY = "tests-bi-rotated-key-fedcba9876543210"
# models and their data tests: the unit tests do not read the warehouse (tests/dbt)
DBT_ARGS = ["--exclude", "test_type:unit"]
# the bi views that name a person, and what they must not carry any more
PERSON_VIEWS = (
    "dim_lead",
    "mart_lead_stage_history",
    "fct_engagement_events",
    "mart_lead_engagement",
    "mart_web_circulation",
)
REMOVED_COLUMNS = {"lead_id", "email", "email_hash", "email_sha256", "stage_spell_id"}
# what the BI role must be refused, at least (ops and scoring are asserted when present)
PRIVATE_SCHEMAS = {
    "raw_marketo",
    "raw_hubspot",
    "raw_salesforce",
    "raw_files",
    "staging",
    "intermediate",
    "snapshots",
    "marts",
    "pseudonyms",
}


def _hmac(key: str, lead_id: str) -> str:
    return hmac.new(key.encode(), lead_id.encode(), hashlib.sha256).hexdigest()


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _use_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    """The environment dbt and the `nurture` command read, restored after the module
    (run_dbt writes dbt's variables into os.environ)."""
    pg = settings.postgres
    env = {
        **dbt_env(settings),
        "NURTURE_WAREHOUSE": settings.warehouse,
        "NURTURE_PG_DATABASE": pg.database,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("NURTURE_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_NURTURE_PSEUDONYM", raising=False)


@pytest.fixture(scope="module")
def duckdb_built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    monkeypatch = pytest.MonkeyPatch()
    try:
        settings = settings_for(tmp_path_factory.mktemp("bi-duckdb"), "duckdb")
        _use_env(monkeypatch, settings)
        write_duckdb(str(settings.duckdb_path), build_world(), create=True)
        build_layers(settings, key=KEY, args=DBT_ARGS)
        yield settings
    finally:
        monkeypatch.undo()


@dataclasses.dataclass
class PostgresBuilt:
    settings: Settings
    role: str
    role_output: str
    # bi.dim_lead's oid when the role was created and after the full rebuild
    oids: tuple[int, int]

    def as_admin(self) -> psycopg.Connection:
        return _connect(self.settings.postgres.database, PG["user"])

    def as_bi(self) -> psycopg.Connection:
        return _connect(self.settings.postgres.database, self.role)


def _connect(database: str, user: str) -> psycopg.Connection:
    params = {"host": PG["host"], "port": PG["port"], "user": user, "dbname": database}
    if user == PG["user"] and PG["password"]:
        params["password"] = PG["password"]
    return psycopg.connect(autocommit=True, connect_timeout=5, **params)


@pytest.fixture(scope="module")
def postgres_built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresBuilt]:
    role = f"nurture_bi_test_{uuid.uuid4().hex[:8]}"
    monkeypatch = pytest.MonkeyPatch()
    try:
        with scratch_database("nurture_bi_test") as database:
            home = tmp_path_factory.mktemp("bi-postgres")
            settings = dataclasses.replace(settings_for(home, "postgres", database), bi_role=role)
            _use_env(monkeypatch, settings)
            pg = settings.postgres
            conninfo = psycopg.conninfo.make_conninfo(
                host=pg.host, port=pg.port, user=pg.user, dbname=database, password=pg.password
            )
            write_postgres(conninfo, build_world(), create=True)
            build_layers(settings, key=KEY, args=DBT_ARGS)
            # the role, as a user creates it (a login, so the checks can connect as it)
            capture = _Capture()
            with capture:
                code = main(["bi", "role", "--login"])
            assert code == 0, capture.text
            oid = _scalar(database, "select 'bi.dim_lead'::regclass::oid")
            # a rebuild of everything: each view dropped and created again
            build_layers(settings, full_refresh=True, key=KEY, args=DBT_ARGS)
            rebuilt_oid = _scalar(database, "select 'bi.dim_lead'::regclass::oid")
            yield PostgresBuilt(settings, role, capture.text, (oid, rebuilt_oid))
    finally:
        monkeypatch.undo()
        with _admin_connect() as admin:
            admin.execute(f'drop role if exists "{role}"')


class _Capture:
    """stdout and stderr of a `nurture` command run in this process."""

    def __enter__(self) -> _Capture:
        import contextlib
        import io

        self._out, self._err = io.StringIO(), io.StringIO()
        self._stack = contextlib.ExitStack()
        self._stack.enter_context(contextlib.redirect_stdout(self._out))
        self._stack.enter_context(contextlib.redirect_stderr(self._err))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    @property
    def text(self) -> str:
        return self._out.getvalue() + self._err.getvalue()

    @property
    def err(self) -> str:
        return self._err.getvalue()


def _scalar(database: str, sql: str) -> Any:
    with _connect(database, PG["user"]) as con:
        return con.execute(sql).fetchone()[0]


@pytest.fixture(
    params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def built(request: pytest.FixtureRequest) -> Settings:
    if request.param == "postgres":
        return request.getfixturevalue("postgres_built").settings
    return request.getfixturevalue("duckdb_built")


def _rows(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    warehouse = get_warehouse(settings)
    with warehouse.transaction() as session:
        return session.rows(sql)


def _bi_views(settings: Settings) -> list[str]:
    rows = _rows(
        settings,
        "select table_name from information_schema.tables where table_schema = 'bi' "
        "order by table_name",
    )
    return [name for (name,) in rows]


def _columns(settings: Settings, view: str) -> list[str]:
    rows = _rows(
        settings,
        "select column_name from information_schema.columns "
        f"where table_schema = 'bi' and table_name = '{view}' order by ordinal_position",
    )
    return [name for (name,) in rows]


# ---- pseudonyms ----------------------------------------------------------------------


def test_person_views_carry_lead_key_and_no_lead_id_or_email_hash(built):
    views = _bi_views(built)
    assert set(PERSON_VIEWS) <= set(views)
    for view in views:
        columns = set(_columns(built, view))
        assert not columns & REMOVED_COLUMNS, (view, columns & REMOVED_COLUMNS)
    for view in PERSON_VIEWS:
        assert "lead_key" in _columns(built, view), view


def test_no_bi_value_is_an_unkeyed_hash_of_an_email_or_lead_id(built):
    """Whoever holds an address must not find its person in bi: no md5 or sha256 of any
    e-mail, raw or normalised, no lead_id (md5 of the e-mail), no hash of lead_id, and
    nothing the marts compute from lead_id alone (the stage spell ids)."""
    world = build_world()
    emails = {
        value
        for rows in world.rows.values()
        for row in rows
        for column, value in row.items()
        if "email" in column and isinstance(value, str) and "@" in value
    }
    emails |= {normalize_email(email) or email for email in emails}
    emails |= {email for (email,) in _rows(built, "select email from marts.dim_lead") if email}
    lead_ids = {lead_id for (lead_id,) in _rows(built, "select lead_id from marts.dim_lead")}
    assert len(lead_ids) > 10 and len(emails) > 10
    forbidden = set(lead_ids)
    for text in emails | lead_ids:
        forbidden |= {_md5(text), _sha256(text), _md5(text).upper(), _sha256(text).upper()}
    forbidden |= {
        spell_id
        for (spell_id,) in _rows(built, "select stage_spell_id from marts.mart_lead_stage_history")
    }
    # what a guesser would try for the stage spells: md5(lead_id | n)
    forbidden |= {_md5(f"{lead_id}|{n}") for lead_id in lead_ids for n in range(1, 30)}

    checked = 0
    for view in _bi_views(built):
        for column in _columns(built, view):
            values = {
                value
                for (value,) in _rows(
                    built, f'select distinct cast("{column}" as varchar) from bi.{view}'
                )
                if value is not None
            }
            leaked = values & forbidden
            assert not leaked, f"bi.{view}.{column} carries {sorted(leaked)[:3]}"
            checked += len(values)
    assert checked > 1000


def test_lead_key_is_the_hmac_of_lead_id_for_every_lead(built):
    mapping = dict(_rows(built, "select lead_id, lead_key from pseudonyms.lead_keys"))
    lead_ids = {lead_id for (lead_id,) in _rows(built, "select lead_id from marts.dim_lead")}
    assert set(mapping) == lead_ids
    assert all(mapping[lead_id] == _hmac(KEY, lead_id) for lead_id in lead_ids)
    fingerprints = _rows(built, "select distinct key_fingerprint from pseudonyms.lead_keys")
    assert fingerprints == [(key_fingerprint(KEY.encode()),)]
    published = [key for (key,) in _rows(built, "select lead_key from bi.dim_lead")]
    assert len(published) == len(lead_ids) and set(published) == set(mapping.values())
    # every person of every view is pseudonymised: a null only where the mart has no lead
    for view, mart in (
        ("mart_lead_stage_history", "mart_lead_stage_history"),
        ("fct_engagement_events", "fct_engagement_events"),
        ("mart_lead_engagement", "mart_lead_engagement"),
        ("mart_web_circulation", "mart_web_circulation"),
    ):
        bi_keyed = _rows(built, f"select count(lead_key) from bi.{view}")[0][0]
        mart_keyed = _rows(built, f"select count(lead_id) from marts.{mart}")[0][0]
        assert bi_keyed == mart_keyed, view


def test_the_same_key_gives_the_same_pseudonyms_on_duckdb_and_postgres(
    duckdb_built, postgres_built
):
    pg = postgres_built.settings

    def published(settings: Settings) -> dict[str, Any]:
        return {
            "leads": sorted(_rows(settings, "select lead_key from bi.dim_lead")),
            "mapping": sorted(
                _rows(settings, "select lead_id, lead_key from pseudonyms.lead_keys")
            ),
            "events": sorted(
                _rows(settings, "select event_id, lead_key from bi.fct_engagement_events"),
                key=str,
            ),
        }

    on_duckdb, on_postgres = published(duckdb_built), published(pg)
    assert on_duckdb["leads"] and on_duckdb["events"]
    assert on_duckdb == on_postgres


def test_a_rotated_key_changes_every_pseudonym(built):
    before = dict(_rows(built, "select lead_id, lead_key from pseudonyms.lead_keys"))
    spells_before = {
        k for (k,) in _rows(built, "select stage_spell_key from bi.mart_lead_stage_history")
    }
    try:
        run = pseudonymise(built, ROTATED_KEY)
        assert run.rotated and run.added == run.removed == run.leads == len(before)
        after = dict(_rows(built, "select lead_id, lead_key from pseudonyms.lead_keys"))
        assert set(after) == set(before)
        assert all(after[lead_id] != before[lead_id] for lead_id in before)
        assert not set(after.values()) & set(before.values())
        assert all(after[lead_id] == _hmac(ROTATED_KEY, lead_id) for lead_id in after)
        # the views read the table: no rebuild needed
        published = {key for (key,) in _rows(built, "select lead_key from bi.dim_lead")}
        assert published == set(after.values())
        spells = {
            k for (k,) in _rows(built, "select stage_spell_key from bi.mart_lead_stage_history")
        }
        assert spells and not spells & spells_before
        # the same key again: nothing to do
        again = pseudonymise(built, ROTATED_KEY)
        assert (again.rotated, again.added, again.removed) == (False, 0, 0)
    finally:
        back = pseudonymise(built, KEY)
    assert back.rotated
    assert dict(_rows(built, "select lead_id, lead_key from pseudonyms.lead_keys")) == before


def test_only_new_leads_are_computed_and_gone_leads_removed(built):
    lead_id, lead_key = _rows(built, "select lead_id, lead_key from pseudonyms.lead_keys")[0]
    warehouse = get_warehouse(built)
    with warehouse.transaction() as session:
        session.execute("delete from pseudonyms.lead_keys where lead_id = ?", [lead_id])
        session.execute(
            "insert into pseudonyms.lead_keys values (?, ?, ?)",
            ["no-such-lead", "0" * 64, key_fingerprint(KEY.encode())],
        )
    run = pseudonymise(built, KEY)
    assert (run.rotated, run.added, run.removed) == (False, 1, 1)
    mapping = dict(_rows(built, "select lead_id, lead_key from pseudonyms.lead_keys"))
    assert mapping[lead_id] == lead_key and "no-such-lead" not in mapping


def test_without_a_key_pseudonymising_fails_with_one_sentence(built, monkeypatch):
    no_key = dataclasses.replace(built, pseudonym_key="")
    with pytest.raises(PseudonymKeyError) as error:
        pseudonymise(no_key)
    message = str(error.value)
    assert message == MISSING_KEY
    assert "NURTURE_PSEUDONYM_KEY" in message and "\n" not in message
    # the whole build stops before building anything, with the same sentence
    with pytest.raises(PseudonymKeyError, match="set NURTURE_PSEUDONYM_KEY"):
        build_layers(no_key, args=DBT_ARGS)
    # and the command says it in one line, without a traceback
    capture = _Capture()
    with capture:
        code = main(["bi", "pseudonymise"])
    assert code == 2
    assert capture.err.strip() == f"nurture: error: {MISSING_KEY}"


def test_the_key_is_in_no_view_definition_file_or_log(built):
    needles = (KEY.encode(), ROTATED_KEY.encode())
    if built.warehouse == "postgres":
        definitions = _rows(
            built,
            "select coalesce(definition, '') from pg_views "
            "where schemaname not in ('pg_catalog', 'information_schema')",
        )
    else:
        definitions = _rows(built, "select coalesce(sql, '') from duckdb_views()")
    assert definitions
    assert not any(needle.decode() in text for (text,) in definitions for needle in needles)
    # dbt's compiled and run SQL, its logs, the DuckDB warehouse file itself
    files = [path for path in Path(built.home).rglob("*") if path.is_file()]
    assert any(path.suffix == ".sql" for path in files)
    for path in files:
        content = path.read_bytes()
        assert not any(needle in content for needle in needles), path


# ---- the BI role (PostgreSQL) -------------------------------------------------------


@pytest.mark.postgres
def test_bi_role_reads_every_bi_view_after_a_full_rebuild(postgres_built):
    built = postgres_built
    assert f"role {built.role}: created, LOGIN" in built.role_output
    # the full refresh replaced the views: their grants are the ones dbt gave again
    assert built.oids[0] != built.oids[1]
    views = _bi_views(built.settings)
    assert set(PERSON_VIEWS) <= set(views) and len(views) >= 15
    with built.as_bi() as con:
        for view in views:
            con.execute(f"select * from bi.{view} limit 5").fetchall()
        total, keyed = con.execute("select count(*), count(lead_key) from bi.dim_lead").fetchone()
        assert total > 10 and keyed == total


@pytest.mark.postgres
def test_bi_role_is_refused_every_other_schema(postgres_built):
    built = postgres_built
    with built.as_admin() as admin:
        relations = admin.execute(
            """
            select n.nspname, c.relname
            from pg_class as c
            join pg_namespace as n on n.oid = c.relnamespace
            where c.relkind in ('r', 'v', 'm', 'p')
                and n.nspname not in ('bi', 'pg_catalog', 'information_schema')
                and n.nspname not like 'pg_toast%'
            order by 1, 2
            """
        ).fetchall()
        assert readable_outside_bi(admin, built.role) == []
    schemas = {schema for schema, _ in relations}
    assert schemas >= PRIVATE_SCHEMAS, PRIVATE_SCHEMAS - schemas
    refused = []
    with built.as_bi() as con:
        for schema, name in relations:
            try:
                con.execute(f'select * from "{schema}"."{name}" limit 1')
            except psycopg.errors.InsufficientPrivilege:
                refused.append((schema, name))
    assert refused == relations, sorted(set(relations) - set(refused))[:10]
    assert ("pseudonyms", "lead_keys") in refused


@pytest.mark.postgres
def test_dbt_keeps_the_grants_and_revokes_any_on_the_pseudonyms(postgres_built):
    """A grant by hand on the pseudonyms is taken back by the next build; a rebuilt view
    is granted again (a grant by hand on it would have died with the old view)."""
    built = postgres_built
    with built.as_admin() as admin:
        admin.execute(f'grant usage on schema pseudonyms to "{built.role}"')
        admin.execute(f'grant select on pseudonyms.lead_keys to "{built.role}"')
    bi_layer = next(layer for layer in LAYERS if layer.name == "bi")
    build_layers(built.settings, key=KEY, args=DBT_ARGS, layers=[bi_layer])
    with built.as_admin() as admin:
        granted = admin.execute(
            "select table_schema, table_name from information_schema.role_table_grants "
            "where grantee = %s order by 1, 2",
            [built.role],
        ).fetchall()
        admin.execute(f'revoke usage on schema pseudonyms from "{built.role}"')
    assert {schema for schema, _ in granted} == {"bi"}
    assert len(granted) == len(_bi_views(built.settings))


@pytest.mark.postgres
def test_bi_role_command_refuses_mistakes_in_one_line(postgres_built, monkeypatch):
    _use_env(monkeypatch, postgres_built.settings)
    for env, expected in (
        ({"NURTURE_BI_ROLE": "Bad-Name"}, "NURTURE_BI_ROLE must be a lower-case"),
        ({"NURTURE_BI_ROLE": PG["user"]}, "the user Nurture builds the warehouse as"),
        ({"NURTURE_WAREHOUSE": "duckdb"}, "DuckDB has no roles"),
    ):
        with monkeypatch.context() as patch:
            for name, value in env.items():
                patch.setenv(name, value)
            capture = _Capture()
            with capture:
                code = main(["bi", "role"])
        assert code == 2, capture.text
        lines = capture.err.strip().splitlines()
        assert len(lines) == 1 and expected in lines[0], capture.err
        assert "Traceback" not in capture.text
    # again on an existing role: nothing to create, everything granted
    capture = _Capture()
    with capture:
        assert main(["bi", "role"]) == 0
    assert re.search(rf"role {postgres_built.role}: exists, LOGIN", capture.text)
