"""Validate warehouse tables against the suites in `include/gx/`; fail with a readable reason.

Suites are plain GX 1.x JSON (`name`, `expectations: [{type, kwargs}]`) plus our `table`
key. Only the columns a suite mentions are read, and they are validated with GX's
pandas engine, which behaves the same whether the warehouse is DuckDB or PostgreSQL.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nurture.config import INCLUDE_DIR
from nurture.warehouse import Warehouse, qualified

log = logging.getLogger(__name__)
SUITES_DIR = INCLUDE_DIR / "gx"


class GateFailed(RuntimeError):
    """Data did not meet its suite; downstream work must not run on it."""


@dataclass(frozen=True)
class Finding:
    table: str
    expectation: str
    column: str | None
    unexpected: int | None
    examples: list[Any]
    rows: int | None = None
    observed: Any = None

    def __str__(self) -> str:
        where = f"({self.column})" if self.column else ""
        count = f": {self.unexpected} unexpected" if self.unexpected else ""
        seen = f": observed {self.observed}" if not count and self.observed is not None else ""
        sample = f", e.g. {self.examples[:3]}" if self.examples else ""
        of = f" ({self.rows} rows checked)" if count and self.rows is not None else ""
        return f"{self.table}: {self.expectation}{where} failed{count}{seen}{sample}{of}"


def load_suite(path: Path) -> dict[str, Any]:
    suite = json.loads(path.read_text(encoding="utf-8"))
    missing = {"name", "table", "expectations"} - set(suite)
    if missing:
        raise ValueError(f"{path}: suite lacks {', '.join(sorted(missing))}")
    return suite


_PREFIX = re.compile(r"^[a-z_][a-z0-9_]*(\.([a-z_][a-z0-9_]*)?)?$")


def suites_for(prefix: str, suites_dir: Path = SUITES_DIR) -> list[dict[str, Any]]:
    """Suites whose table starts with `prefix` (e.g. `raw_marketo`, `marts.`): a schema
    name, optionally with a table name; never a path (`..`) or a glob pattern."""
    if not _PREFIX.match(prefix):
        raise GateFailed(
            f"{prefix!r} is not a schema or schema.table name (letters, digits, underscores)"
        )
    return [load_suite(p) for p in sorted(suites_dir.glob(f"{prefix}*.json"))]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table_columns(warehouse: Warehouse, table: str) -> set[str]:
    schema, name = table.split(".")
    found = warehouse.query(
        "select column_name from information_schema.columns "
        "where table_schema = ? and table_name = ?",
        [schema, name],
    )
    return set(found["column_name"])


def _columns(suite: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for expectation in suite["expectations"]:
        kwargs = expectation.get("kwargs", {})
        for name in [kwargs.get("column"), *kwargs.get("column_list", [])]:
            if name and name not in names:
                names.append(name)
    return names


def validate(warehouse: Warehouse, suite: dict[str, Any]) -> list[Finding]:
    import great_expectations as gx

    table = qualified(suite["table"])
    if not warehouse.table_exists(table):
        return [Finding(table, "table_exists", None, None, [])]
    # A suite's column names are checked against the catalogue and quoted: a crafted
    # suite cannot put SQL into the query, and a missing column is a finding, not an error.
    existing = _table_columns(warehouse, table)
    wanted = _columns(suite)
    missing = [c for c in wanted if c not in existing]
    if missing:
        return [Finding(table, "column_exists", c, None, []) for c in missing]
    frame = warehouse.query(f"select {', '.join(map(_quote, wanted)) or '*'} from {table}")
    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_pandas("warehouse")
        .add_dataframe_asset(table)
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    expectations = gx.ExpectationSuite(
        name=suite["name"],
        expectations=[
            {"type": e["type"], "kwargs": e.get("kwargs", {}), "meta": e.get("meta", {})}
            for e in suite["expectations"]
        ],
    )
    result = batch.validate(expectations)
    findings = []
    for outcome in result.results:
        if outcome.success:
            continue
        config = outcome.expectation_config
        details = outcome.result or {}
        findings.append(
            Finding(
                table=table,
                expectation=config.type,
                column=config.kwargs.get("column"),
                unexpected=details.get("unexpected_count"),
                examples=list(details.get("partial_unexpected_list") or []),
                rows=details.get("element_count"),
                observed=details.get("observed_value"),
            )
        )
    return findings


def run_gate(warehouse: Warehouse, prefix: str, suites_dir: Path = SUITES_DIR) -> dict[str, int]:
    """Validate every suite for `prefix`; raise `GateFailed` listing what failed."""
    suites = suites_for(prefix, suites_dir)
    if not suites:
        raise GateFailed(f"no GX suites for {prefix!r} in {suites_dir}")
    findings = [f for suite in suites for f in validate(warehouse, suite)]
    if findings:
        raise GateFailed("data quality gate failed:\n" + "\n".join(f"- {f}" for f in findings))
    checked = {suite["table"]: len(suite["expectations"]) for suite in suites}
    log.info("gate %s passed: %s", prefix, checked)
    return checked
