"""Progress of the long steps (pages fetched, rows loaded, dbt models built, deliveries),
drawn on a terminal and silent everywhere else.

A long step takes a `Progress` (default `NO_PROGRESS`, which does nothing) and reports
to it by key: `update(key, description, completed=, total=, advance=)`, then
`done(key, description)`. Airflow tasks, tests and pipes get the no-op, so they print
nothing and their code paths stay as they were. `for_terminal()` gives the `nurture`
command rich bars and spinners on stderr, only when stderr is a terminal, outside an
Airflow task, and unless `NURTURE_PROGRESS=0`; the command's summary stays on stdout.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Mapping
from typing import Any, TextIO

# Off switch; any of these (any case) turns the display off.
OFF_VALUES = frozenset({"0", "false", "no", "off"})
# Airflow puts a task's context in these while the task runs.
AIRFLOW_TASK_ENV = ("AIRFLOW_CTX_DAG_ID", "AIRFLOW_CTX_TASK_ID")


class Progress:
    """Where a long step reports how far it got. This base reports nothing: it is what
    Airflow tasks, tests and non-terminal runs get, and what each step defaults to."""

    active = False  # whether anyone looks: steps skip work done only for the display

    def update(
        self,
        key: str,
        description: str | None = None,
        *,
        completed: int | None = None,
        total: int | None = None,
        advance: int = 0,
    ) -> None:
        """Show (or add, the first time) the line `key`."""

    def done(self, key: str, description: str | None = None) -> None:
        """Mark the line `key` finished, with its final description."""

    def close(self) -> None:
        """Stop drawing."""

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


NO_PROGRESS = Progress()


def wanted(stream: TextIO | None = None, environ: Mapping[str, str] | None = None) -> bool:
    """Whether to draw on `stream` (default stderr): a terminal, not inside an Airflow
    task, `NURTURE_PROGRESS` not 0/false/no/off, and not a dumb terminal."""
    environ = os.environ if environ is None else environ
    if environ.get("NURTURE_PROGRESS", "").strip().lower() in OFF_VALUES:
        return False
    if any(environ.get(name) for name in AIRFLOW_TASK_ENV):
        return False
    if environ.get("TERM", "").strip().lower() == "dumb":
        return False
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or closed
        return False


def for_terminal(
    stream: TextIO | None = None, environ: Mapping[str, str] | None = None
) -> Progress:
    """A rich display on `stream` (default stderr) if `wanted`, else `NO_PROGRESS`."""
    if not wanted(stream, environ):
        return NO_PROGRESS
    from rich.console import Console

    return RichProgress(Console(file=stream if stream is not None else sys.stderr))


class RichProgress(Progress):
    """Spinners, counts and bars (for lines with a total) on a rich console; the lines
    disappear when it closes, as the command prints its summary after. Thread-safe (dbt
    reports from its worker threads). Drawing starts with the first update."""

    active = True

    def __init__(self, console: Any, transient: bool = True) -> None:
        from rich.progress import Progress as Bars

        self.console = console
        self._bars = Bars(
            *_columns(),
            console=console,
            transient=transient,
            # print() goes above the lines only if stdout is on the same terminal;
            # a redirected stdout must get the summary, not the console's stream
            redirect_stdout=_is_tty(sys.stdout),
            redirect_stderr=True,
        )
        self._tasks: dict[str, Any] = {}
        self._lock = threading.RLock()
        self._started = False
        self._closed = False
        self._moved: list[tuple[logging.StreamHandler[Any], Any]] = []  # (handler, its stream)

    def update(
        self,
        key: str,
        description: str | None = None,
        *,
        completed: int | None = None,
        total: int | None = None,
        advance: int = 0,
    ) -> None:
        with self._lock:
            if self._closed:
                return
            self._start()
            task = self._tasks.get(key)
            if task is None:
                self._tasks[key] = self._bars.add_task(
                    description if description is not None else key,
                    total=total,
                    completed=completed or 0,
                )
                if advance:
                    self._bars.advance(self._tasks[key], advance)
                return
            fields: dict[str, Any] = {}
            if description is not None:
                fields["description"] = description
            if completed is not None:
                fields["completed"] = completed
            if total is not None:
                fields["total"] = total
            if advance:
                fields["advance"] = advance
            self._bars.update(task, **fields)

    def done(self, key: str, description: str | None = None) -> None:
        with self._lock:
            if self._closed:
                return
            self.update(key, description)
            task_id = self._tasks[key]
            task = next(t for t in self._bars.tasks if t.id == task_id)
            if task.total is not None:
                self._bars.update(task_id, completed=task.total)
            else:  # a counter stays a counter, with a tick
                self._bars.update(task_id, done=True)
                self._bars.stop_task(task_id)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for handler, stream in self._moved:
                handler.setStream(stream)
            self._moved.clear()
            if self._started:
                self._bars.stop()

    def _start(self) -> None:
        if self._started:
            return
        self._started = True
        self._bars.start()
        # Log records written straight to the console's stream would tear the lines
        # apart: while drawing, those handlers write through rich's stand-in for stderr.
        through = sys.stderr
        if through is self.console.file:
            return
        for handler in logging.getLogger().handlers:
            if type(handler) is logging.StreamHandler and handler.stream is self.console.file:
                self._moved.append((handler, handler.setStream(through)))


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _columns() -> list[Any]:
    """Spinner, description, then a bar and `12/40` for lines with a total (counters
    carry their counts in the description; a pulsing bar would say nothing), time."""
    from rich.progress import BarColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.text import Text

    class Spinner(SpinnerColumn):
        def render(self, task: Any) -> Any:
            return self.finished_text if task.fields.get("done") else super().render(task)

    class BarWhenTotal(BarColumn):
        def render(self, task: Any) -> Any:
            return super().render(task) if task.total is not None else Text("")

    class CountWhenTotal(TextColumn):
        def render(self, task: Any) -> Any:
            if task.total is None:
                return Text("")
            return Text(f"{int(task.completed):,}/{int(task.total):,}")

    return [
        Spinner(finished_text="[green]✓[/]"),
        TextColumn("{task.description}", markup=False),  # names and errors as written
        BarWhenTotal(bar_width=24),
        CountWhenTotal(""),
        TimeElapsedColumn(),
    ]
