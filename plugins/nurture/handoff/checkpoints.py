"""Named points inside a delivery where a crash test can hold the process.

With `NURTURE_HANDOFF_PAUSE_AT=<name>` the handoff prints `handoff paused at <name>` and
waits there, so a test can SIGKILL it at that exact point instead of racing a sleep.
Unset (always, outside tests) a checkpoint does nothing.
"""

from __future__ import annotations

import os
import time

PAUSE_ENV = "NURTURE_HANDOFF_PAUSE_AT"


def checkpoint(name: str) -> None:
    if os.environ.get(PAUSE_ENV) != name:
        return
    print(f"handoff paused at {name}", flush=True)
    while True:
        time.sleep(60)
