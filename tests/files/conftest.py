from __future__ import annotations

from pathlib import Path

import pytest

from nurture.files.sources import Sources, load_sources
from tests.files.dropped import drop_fixtures


@pytest.fixture
def sources() -> Sources:
    return load_sources()


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    """A drop folder holding every fixture file."""
    return drop_fixtures(tmp_path / "drop")
