"""The pieces of the bi schema's safety that need no built warehouse: the keyed hash and
its key, the demo key, the layers that pseudonymise, the grants config per adapter."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dbt.cli.main import dbtRunner

from nurture.config import ConfigError, load_settings
from nurture.connections import connection_env
from nurture.transform.layers import LAYERS, SCORE_DEPENDENT, layer_operator
from nurture.transform.pseudonyms import (
    DEMO_KEY,
    MISSING_KEY,
    PseudonymKeyError,
    check_key,
    key_fingerprint,
    lead_keys,
    pseudonym_key,
)

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
KEY = "tests-bi-pseudonym-key-0123456789abcdef"


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NURTURE_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_NURTURE_PSEUDONYM", raising=False)


def test_lead_key_is_hmac_sha256_of_lead_id_in_hex():
    lead_id = hashlib.md5(b"taro.yamada@yamada-shoji.co.jp").hexdigest()
    expected = hmac.new(KEY.encode(), lead_id.encode(), hashlib.sha256).hexdigest()
    assert lead_keys(KEY.encode(), [lead_id]) == [expected]
    # not the unkeyed hashes anyone can compute
    assert expected not in {hashlib.sha256(lead_id.encode()).hexdigest(), lead_id}
    assert lead_keys(b"another-key-of-enough-length-0123456789", [lead_id]) != [expected]


def test_fingerprint_tells_keys_apart_without_being_them():
    first, second = key_fingerprint(KEY.encode()), key_fingerprint(DEMO_KEY.encode())
    assert len(first) == 16 and int(first, 16) >= 0
    assert first != second and first == key_fingerprint(KEY.encode())
    assert first not in KEY


def test_the_key_comes_from_the_environment_or_the_airflow_connection(monkeypatch, no_key):
    settings = load_settings({"NURTURE_PSEUDONYM_KEY": f"  {KEY}\n"})
    assert pseudonym_key(settings) == KEY.encode()
    assert KEY not in repr(settings)
    empty = load_settings({})
    monkeypatch.setenv(
        "AIRFLOW_CONN_NURTURE_PSEUDONYM",
        json.dumps({"conn_type": "generic", "password": KEY}),
    )
    assert pseudonym_key(empty) == KEY.encode()
    monkeypatch.setenv(
        "AIRFLOW_CONN_NURTURE_PSEUDONYM",
        connection_env("", "", "", key=KEY),
    )
    assert pseudonym_key(empty) == KEY.encode()


def test_no_key_or_a_short_one_is_one_sentence_naming_the_variable(no_key):
    with pytest.raises(PseudonymKeyError) as error:
        pseudonym_key(load_settings({}))
    assert str(error.value) == MISSING_KEY
    assert MISSING_KEY.startswith("No pseudonym key for the bi schema: set NURTURE_PSEUDONYM_KEY")
    assert "\n" not in MISSING_KEY and MISSING_KEY.endswith(".")
    assert isinstance(error.value, ConfigError)  # the CLI prints it without a traceback
    with pytest.raises(PseudonymKeyError, match="has 6 characters: use a random secret"):
        check_key("secret")


def test_bi_role_is_configurable_and_checked():
    assert load_settings({}).bi_role == "nurture_bi"
    assert load_settings({"NURTURE_BI_ROLE": "looker_ro"}).bi_role == "looker_ro"
    for bad in ("Looker", "bi-role", "1bi", "bi; drop table x", "a" * 64):
        with pytest.raises(ConfigError, match="NURTURE_BI_ROLE must be"):
            load_settings({"NURTURE_BI_ROLE": bad})


def test_the_demo_uses_the_demo_key_only_when_none_is_configured(tmp_path, monkeypatch, no_key):
    from nurture.demo import airflow_env, uses_demo_key

    settings = load_settings({"NURTURE_HOME": str(tmp_path)})
    when = datetime(2026, 10, 1, tzinfo=UTC)
    env = airflow_env(tmp_path, "http://127.0.0.1:1", settings, when)
    assert env["NURTURE_PSEUDONYM_KEY"] == DEMO_KEY
    monkeypatch.setenv("NURTURE_PSEUDONYM_KEY", KEY)
    env = airflow_env(tmp_path, "http://127.0.0.1:1", settings, when)
    assert env["NURTURE_PSEUDONYM_KEY"] == KEY
    assert not uses_demo_key({"AIRFLOW_CONN_NURTURE_PSEUDONYM": '{"password": "x"}'})
    assert uses_demo_key({})


def test_the_layers_that_build_bi_views_pseudonymise():
    assert [layer.name for layer in LAYERS if layer.pseudonymise] == ["bi"]
    assert SCORE_DEPENDENT.pseudonymise


def test_the_bi_task_fails_before_dbt_without_a_key(monkeypatch, tmp_path, no_key):
    from airflow.sdk.exceptions import AirflowFailException
    from cosmos.operators.local import DbtBuildLocalOperator

    monkeypatch.setenv("NURTURE_HOME", str(tmp_path))

    def dbt_must_not_run(*args, **kwargs):
        raise AssertionError("dbt ran without a pseudonym key")

    monkeypatch.setattr(DbtBuildLocalOperator, "execute", dbt_must_not_run)
    bi = next(layer for layer in LAYERS if layer.name == "bi")
    task = layer_operator(bi, exclude=[])
    assert task.pseudonymise
    with pytest.raises(AirflowFailException) as error:
        task.execute(context={})
    assert MISSING_KEY in str(error.value)


def _model_grants(tmp_path: Path, target: str, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.setenv("NURTURE_HOME", str(tmp_path))
    monkeypatch.setenv("NURTURE_BI_ROLE", "looker_ro")
    result = dbtRunner().invoke(
        [
            "ls",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target",
            target,
            "--target-path",
            str(tmp_path / target / "target"),
            "--log-path",
            str(tmp_path / target / "logs"),
            "--resource-type",
            "model",
            "--select",
            "path:models/bi",
            "--output",
            "json",
        ]
    )
    assert result.success, result.exception
    nodes = [json.loads(line) for line in result.result]
    return {node["name"]: node["config"].get("grants") for node in nodes}


def test_grants_are_postgres_only_and_never_on_the_pseudonyms(tmp_path, monkeypatch):
    on_postgres = _model_grants(tmp_path, "postgres", monkeypatch)
    assert on_postgres.pop("pseudonyms_lead_keys") == {"select": []}
    assert len(on_postgres) >= 15
    assert all(grants == {"select": ["looker_ro"]} for grants in on_postgres.values())
    on_duckdb = _model_grants(tmp_path, "duckdb", monkeypatch)
    assert all(not grants for grants in on_duckdb.values()), on_duckdb
