"""`nurture score` prints labelled lines for people and one JSON document with --json,
never a Python repr (it once printed `ScoringSummary(run_id='score:...', ...)`)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.conftest import settings_env, settings_for
from tests.scoring.conftest import AS_OF
from tests.scoring.world_marts import load_marts


@pytest.fixture(scope="module")
def scored_home(world_tables, tmp_path_factory):
    home = tmp_path_factory.mktemp("score-cli")
    load_marts(settings_for(home, "duckdb"), world_tables)
    return home


def _score(home, *extra: str) -> str:
    env = settings_env(settings_for(home, "duckdb"))
    done = subprocess.run(
        [sys.executable, "-m", "nurture.cli", "score", "--as-of", AS_OF.isoformat(), *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_score_prints_readable_lines(scored_home):
    out = _score(scored_home)
    assert "ScoringSummary(" not in out and "=" not in out
    # "<label>  <value>", the labels padded to one width
    lines = dict(re.split(r"\s{2,}", line.strip(), maxsplit=1) for line in out.splitlines())
    assert lines["leads scored"].replace(",", "").isdigit()
    assert int(lines["MQLs"].replace(",", "")) > 0
    assert lines["run"] == f"score:{AS_OF.isoformat()}"


def test_score_json_for_machines(scored_home):
    document = json.loads(_score(scored_home, "--json"))
    assert document["run_id"] == f"score:{AS_OF.isoformat()}"
    assert document["leads_scored"] > 0 and document["mqls"] > 0
