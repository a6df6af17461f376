"""One writer per dlt pipeline folder at a time, across processes on this host.

A dlt pipeline keeps its state and load packages in a folder of its own; two runs of
the same pipeline at once (a backfill's runs, or two syncs writing the shared `ops`
pipeline on PostgreSQL) tear each other's files (`schema_updates.json` vanishing,
half-written gzip) and may load each other's packages. An exclusive `flock` on a file
beside the folder makes them take turns; the kernel drops it if the holder dies.
"""

from __future__ import annotations

import fcntl
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)


@contextmanager
def pipeline_lock(pipelines_dir: str | Path, pipeline_name: str) -> Iterator[None]:
    """Hold the lock of `pipeline_name` under `pipelines_dir` for the block."""
    folder = Path(pipelines_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f".{pipeline_name}.lock"
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            started = time.monotonic()
            log.info("pipeline %s is busy in another process; waiting for it", pipeline_name)
            fcntl.flock(handle, fcntl.LOCK_EX)
            log.info("pipeline %s free after %.1fs", pipeline_name, time.monotonic() - started)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
