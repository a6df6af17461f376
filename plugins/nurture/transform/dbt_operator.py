"""The cosmos `dbt build` operator, failing at once when a retry cannot help.

A failing model or test fails the same way on every try; only a lock held by another
writer or a dropped warehouse connection is worth retrying (nurture.retryable).

cosmos runs dbt in a temporary copy of the project, so each task would parse the whole
project again; this operator starts dbt from the parse the last dbt call cached
(`nurture.transform.dbt.parse_cache_dir`), so dbt re-reads only changed files.

With `pseudonymise` (layers that build bi views) it runs the pseudonym step
(nurture.transform.pseudonyms) before dbt and again after it: no key configured fails
the task at once, with the sentence saying which variable to set.
"""

from __future__ import annotations

import gc
import os
from pathlib import Path
from typing import Any

from airflow.sdk.exceptions import AirflowSkipException
from cosmos.operators.local import DbtBuildLocalOperator

from nurture.retryable import is_transient, raise_final
from nurture.transform.dbt import publish_parse, reuse_parse


class DbtBuildLayerOperator(DbtBuildLocalOperator):
    def __init__(
        self,
        *args: Any,
        parse_cache: str | None = None,
        pseudonymise: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.parse_cache = parse_cache
        self.pseudonymise = pseudonymise
        self._reused_parse: int | None = None

    def execute(self, context: Any, **kwargs: Any) -> Any:
        try:
            if self.pseudonymise:
                self._pseudonymise()
            result = super().execute(context, **kwargs)
            if self.pseudonymise:
                self._pseudonymise()
            return result
        except AirflowSkipException:
            raise
        except Exception as exc:
            if is_transient(exc):
                raise
            raise_final(exc)

    def _pseudonymise(self) -> None:
        from nurture.config import load_settings
        from nurture.transform.pseudonyms import pseudonymise

        self.log.info("%s", pseudonymise(load_settings()).render())

    def run_dbt_runner(
        self, command: list[str], env: dict[str, str], cwd: str, **kwargs: Any
    ) -> Any:
        # After each dbt call cosmos runs a full garbage collection (to free the dbt
        # adapters' semaphores), which walks every object of the process, Airflow's
        # included: 0.6 s a call on 2 cores. Frozen, the objects from before the call are
        # left out, and it collects what the call left, as intended.
        gc.freeze()
        try:
            return super().run_dbt_runner(command, env, cwd, **kwargs)
        finally:
            gc.unfreeze()

    # Not cosmos's own cache (`cache_dir`): it caches the parse as made in the task's
    # temporary copy, so every later task unpacks and repacks it to point it at its own
    # copy. Ours is kept rooted in the project and replaced only when dbt parsed anew.
    def _handle_partial_parse(self, tmp_dir_path: Path) -> None:
        if self.parse_cache:
            self._reused_parse = reuse_parse(Path(self.parse_cache), tmp_dir_path / "target")

    def _update_partial_parse_cache(self, tmp_dir_path: Path) -> None:
        if self.parse_cache:
            publish_parse(tmp_dir_path / "target", Path(self.parse_cache), self._reused_parse)

    def calculate_openlineage_events_completes(
        self,
        env: dict[str, str | os.PathLike[Any] | bytes],
        project_dir: Path,
        dbt_command_line: list[str] | None = None,
    ) -> bool:
        # cosmos turns the manifest and run results into OpenLineage events after every
        # dbt call, whether or not anything reads them (seconds per layer). Only its
        # per-model Assets would, and those are off (`emit_datasets=False`).
        if not self.emit_datasets:
            return False
        return super().calculate_openlineage_events_completes(env, project_dir, dbt_command_line)
