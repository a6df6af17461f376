"""run_dbt tells its progress as many finished nodes as it built, out of those selected."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from nurture.transform.dbt import DbtFailed, DbtRun, NodeCounter, run_dbt
from tests.cli.readable import reprs
from tests.cli.recorder import Recorder
from tests.conftest import settings_for

# Two staging views that build on an empty warehouse (the files source reads as empty).
MODELS = ("stg_files__imported_files", "stg_files__leads")


def test_run_dbt_reports_each_model_it_built(tmp_path):
    progress = Recorder()
    run = run_dbt(settings_for(tmp_path, "duckdb"), "run", ["--select", *MODELS], progress)
    built = [node for node in run.results if node.startswith("model.")]
    assert sorted(built) == sorted(f"model.nurture.{name}" for name in MODELS)
    line = progress.lines["dbt run"]
    assert line["total"] == len(built)  # the nodes selected (not the project's hooks)
    assert line["completed"] == len(built)
    finished = [text for text in progress.history["dbt run"] if "stg_" in text]
    assert sorted(finished) == sorted(f"dbt run: {name} success" for name in MODELS)
    assert "dbt run" in progress.finished
    assert progress.description("dbt run") == f"dbt run: {len(built)} success"


def _event(name: str, **data) -> SimpleNamespace:
    return SimpleNamespace(info=SimpleNamespace(name=name), data=SimpleNamespace(**data))


def test_the_callback_never_raises_into_dbt():
    """dbt fails the whole run when a callback raises: an event it does not expect, or a
    progress display that breaks, is only logged."""

    class Broken(Recorder):
        def update(self, *args, **kwargs):
            raise RuntimeError("the display broke")

    NodeCounter("build", Broken())(_event("ConcurrencyLine", node_count=3))
    counter = NodeCounter("build", Recorder())
    counter(_event("NodeFinished"))  # no node_info
    counter(_event("ConcurrencyLine"))  # no node_count
    counter(_event("NodeFinished", node_info=SimpleNamespace(node_name="a", node_status="ok")))
    assert counter.finished == 2
    counter.done(
        DbtRun("build", {"model.a": "success", "test.b": "pass", "operation.c": "success"})
    )
    assert counter.progress.description("dbt build") == "dbt build: 1 pass, 1 success"


def test_a_dbt_error_is_told_in_words(tmp_path):
    """A dbt call that fails before any node runs says what dbt said, not its repr."""
    with pytest.raises(DbtFailed) as failed:
        run_dbt(settings_for(tmp_path, "duckdb"), "run", ["--no-such-flag"])
    message = str(failed.value)
    assert message.endswith("DbtUsageException: No such option '--no-such-flag'.")
    assert reprs(message) == [] and '("' not in message
