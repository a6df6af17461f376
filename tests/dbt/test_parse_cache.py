"""The parse the dbt tasks share: taken as it is, cached only when dbt wrote a new one,
and always rooted in the project (cosmos runs dbt in temporary copies of it)."""

from __future__ import annotations

import os
from pathlib import Path

import msgpack

from nurture.config import DBT_PROJECT_DIR
from nurture.transform.dbt import PARTIAL_PARSE, publish_parse, reuse_parse


def _parse(root: str) -> dict:
    """The parts of dbt's partial_parse.msgpack that name the project's directory."""
    return {
        "files": {
            "nurture://seeds/a.csv": {"project_name": "nurture", "path": {"project_root": root}},
            "dbt_duckdb://macros/x.sql": {
                "project_name": "dbt_duckdb",
                "path": {"project_root": "/site-packages/dbt/include/duckdb"},
            },
        },
        "nodes": {"seed.nurture.a": {"root_path": root, "raw_code": root + " stays"}},
    }


def test_a_parse_made_in_a_temporary_copy_is_cached_as_made_in_the_project(
    tmp_path: Path,
) -> None:
    target, cache = tmp_path / "tmpcopy" / "target", tmp_path / "cache"
    target.mkdir(parents=True)
    (target / PARTIAL_PARSE).write_bytes(msgpack.packb(_parse(str(tmp_path / "tmpcopy"))))
    publish_parse(target, cache)
    cached = msgpack.unpackb((cache / PARTIAL_PARSE).read_bytes(), strict_map_key=False)
    here = str(DBT_PROJECT_DIR)
    assert cached["files"]["nurture://seeds/a.csv"]["path"]["project_root"] == here
    assert cached["nodes"]["seed.nurture.a"]["root_path"] == here
    # other packages and the SQL are left alone
    adapter = cached["files"]["dbt_duckdb://macros/x.sql"]["path"]["project_root"]
    assert adapter == "/site-packages/dbt/include/duckdb"
    assert cached["nodes"]["seed.nurture.a"]["raw_code"].endswith(" stays")


def test_a_reused_parse_is_not_cached_again_unless_dbt_rewrote_it(tmp_path: Path) -> None:
    cache, target = tmp_path / "cache", tmp_path / "task" / "target"
    cache.mkdir()
    packed = msgpack.packb(_parse(str(DBT_PROJECT_DIR)))
    (cache / PARTIAL_PARSE).write_bytes(packed)
    assert reuse_parse(tmp_path / "empty", target) is None
    reused = reuse_parse(cache, target)
    assert (target / PARTIAL_PARSE).read_bytes() == packed
    (cache / PARTIAL_PARSE).write_bytes(b"newer, from another task")
    publish_parse(target, cache, reused)  # dbt found nothing changed: keep the cache
    assert (cache / PARTIAL_PARSE).read_bytes() == b"newer, from another task"
    (target / PARTIAL_PARSE).write_bytes(packed)  # dbt parsed again, a second later
    later = (reused or 0) + 1_000_000_000
    os.utime(target / PARTIAL_PARSE, ns=(later, later))
    publish_parse(target, cache, reused)
    assert (cache / PARTIAL_PARSE).read_bytes() == packed
    assert [p.name for p in cache.iterdir()] == [PARTIAL_PARSE]  # no temporary file left
