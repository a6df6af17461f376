"""Drop folders filled with the fixture files, aged past the settle time."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


def settled(path: Path) -> Path:
    """Age a dropped file past `settle_seconds`, as if it had been copied an hour ago."""
    an_hour_ago = time.time() - 3600
    os.utime(path, (an_hour_ago, an_hour_ago))
    return path


def drop_fixtures(folder: Path, *names: str) -> Path:
    """Copy the fixtures (or the named ones) into `folder`, settled."""
    folder.mkdir(parents=True, exist_ok=True)
    for fixture in sorted(FIXTURES.iterdir()):
        if not names or fixture.name in names:
            settled(Path(shutil.copy(fixture, folder / fixture.name)))
    return folder
