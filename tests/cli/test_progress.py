"""The progress display: drawn on a terminal, silent without one and inside Airflow."""

from __future__ import annotations

import io
import logging
import os
import sys
from datetime import date

import pytest
from rich.console import Console

from nurture.handoff import run as handoff_run
from nurture.handoff.targets import TargetResult
from nurture.progress import NO_PROGRESS, Progress, RichProgress, for_terminal, wanted
from tests.cli.recorder import Recorder


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _report(progress: Progress) -> None:
    progress.update("hubspot", "hubspot: 7 pages fetched")
    progress.update("hubspot.contacts", "  contacts: 3 pages, 1,234 rows")
    progress.update("dbt run", "dbt run: stg_files__leads success", completed=7, total=9)
    progress.done("hubspot.contacts", "  contacts: 1,234 rows loaded")
    progress.close()


@pytest.mark.parametrize(
    "environ",
    [
        {"AIRFLOW_CTX_DAG_ID": "sync_hubspot", "AIRFLOW_CTX_TASK_ID": "sync"},
        {"AIRFLOW_CTX_DAG_ID": "sync_hubspot"},
        {"NURTURE_PROGRESS": "0"},
        {"NURTURE_PROGRESS": "off"},
        {"TERM": "dumb"},
    ],
    ids=["airflow-task", "airflow-dag-only", "progress-0", "progress-off", "dumb-terminal"],
)
def test_silent_on_a_terminal_inside_airflow_or_when_turned_off(environ):
    terminal = FakeTerminal()
    assert not wanted(terminal, environ)
    progress = for_terminal(terminal, environ)
    assert progress is NO_PROGRESS and not progress.active
    _report(progress)
    assert terminal.getvalue() == ""


def test_silent_without_a_terminal():
    piped = io.StringIO()  # a pipe or a file: isatty() is False
    assert not wanted(piped, {})
    progress = for_terminal(piped, {})
    assert progress is NO_PROGRESS
    _report(progress)
    assert piped.getvalue() == ""


def test_no_progress_takes_every_call_and_does_nothing():
    with NO_PROGRESS as progress:
        progress.update("x", "x", completed=1, total=2, advance=1)
        progress.done("x", "done")
    assert not NO_PROGRESS.active


def test_draws_on_a_terminal_with_the_counts_it_was_given():
    terminal = FakeTerminal()
    progress = for_terminal(terminal, {})  # a terminal, outside Airflow, not turned off
    assert isinstance(progress, RichProgress) and progress.active
    _report(progress)
    drawn = terminal.getvalue()
    assert "hubspot: 7 pages fetched" in drawn
    assert "contacts: 1,234 rows loaded" in drawn
    assert "7/9" in drawn  # a line with a total shows its count


def test_draws_to_a_forced_terminal_console():
    out = io.StringIO()
    progress = RichProgress(Console(file=out, force_terminal=True, width=100))
    progress.update("marketo.leads", "  leads: 12 pages, 40,000 rows")
    progress.update("demo", "demo step 3/9: running the sync_hubspot DAG", completed=2, total=9)
    progress.update("demo", advance=1)
    progress.done("marketo.leads", "  leads: 40,000 rows loaded, 3 quarantined")
    progress.close()
    drawn = out.getvalue()
    assert "leads: 12 pages, 40,000 rows" in drawn
    assert "leads: 40,000 rows loaded, 3 quarantined" in drawn
    assert "running the sync_hubspot DAG" in drawn and "3/9" in drawn
    assert "✓" in drawn  # the finished line is ticked
    progress.update("late", "after close")  # ignored, never raises
    assert "after close" not in out.getvalue()


def test_names_with_brackets_are_drawn_as_written():
    out = io.StringIO()
    progress = RichProgress(Console(file=out, force_terminal=True, width=100))
    progress.update("x", "  [bold]odd[/] name [/x]")
    progress.close()
    assert "[bold]odd[/] name [/x]" in out.getvalue()


def test_log_records_go_above_the_lines_while_drawing():
    """A log handler writing to the console's stream writes through rich while the
    lines are drawn (no torn lines), and gets its stream back afterwards."""
    terminal = FakeTerminal()
    handler = logging.StreamHandler(terminal)
    root = logging.getLogger()
    root.addHandler(handler)
    real_stderr = sys.stderr
    try:
        sys.stderr = terminal  # the console writes where stderr is, as in the command
        progress = RichProgress(Console(file=terminal, force_terminal=True, width=100))
        progress.update("x", "working")
        assert handler.stream is not terminal  # rich's stand-in for stderr
        logging.getLogger("nurture.test").warning("a warning while drawing")
        progress.close()
        assert handler.stream is terminal
    finally:
        sys.stderr = real_stderr
        root.removeHandler(handler)
    assert "a warning while drawing" in terminal.getvalue()


def test_handoff_reports_each_target(monkeypatch, tmp_path):
    results = {
        "salesforce": TargetResult("salesforce", delivered=3),
        "hubspot": TargetResult("hubspot", delivered=2, pending=1, error="timed out"),
        "csv_feed": TargetResult("csv_feed", delivered=5),
        "slack": TargetResult("slack", delivered=5),
    }
    monkeypatch.setattr(handoff_run, "assign", lambda settings, connections: {"rep-1": 5})
    monkeypatch.setattr(
        handoff_run,
        "deliver_target",
        lambda settings, target, day, connections: results[target],
    )
    progress = Recorder()
    with pytest.raises(handoff_run.HandoffFailed):  # hubspot fell short
        handoff_run.run_handoff(None, date(2026, 10, 1), progress=progress)  # type: ignore[arg-type]
    assert progress.description("handoff.salesforce") == "  salesforce: 3 delivered"
    assert "hubspot: 2 delivered, 1 still pending (timed out)" in progress.description(
        "handoff.hubspot"
    )
    assert progress.lines["handoff"]["completed"] == progress.lines["handoff"]["total"] == 4
    assert progress.description("handoff") == "handoff: 15 delivered to 4 targets"
    assert set(progress.finished) == {f"handoff.{t}" for t in results} | {"handoff"}


def test_demo_steps_follow_the_dag_lines(tmp_path, capsys):
    from nurture.demo import PIPELINE_DAGS, DemoSteps, _run_logged

    progress = Recorder()
    steps = DemoSteps(progress)
    steps.step("starting the sandbox")
    steps.step("setting up an ephemeral Airflow")
    script = "; ".join(
        f"print('::dag {dag} started'); print('::dag {dag} success 1.0s peak-rss 5MB')"
        for dag in PIPELINE_DAGS[:2]
    )
    _run_logged(
        [sys.executable, "-c", script],
        dict(os.environ),
        tmp_path / "dags.log",
        "dags",
        on_dag=steps.dag,
    )
    line = progress.lines["demo"]
    assert line["total"] == DemoSteps.TOTAL
    assert line["description"] == (
        f"demo step 4/{DemoSteps.TOTAL}: running the {PIPELINE_DAGS[1]} DAG"
    )
    assert line["completed"] == 3
    out = capsys.readouterr().out  # the DAG lines stay on stdout, as before
    assert f"  {PIPELINE_DAGS[0]:<20} success  1.0s peak-rss 5MB" in out
    steps.finish()
    assert "demo" in progress.finished
