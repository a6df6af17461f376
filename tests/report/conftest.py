"""Fixtures of the report tests: a demo world, and headless Chromium to open reports in.

`report_home` is a copy of the session's first demo run (`first_demo` in
tests/conftest.py: `nurture demo --seed 7 --leads 800` through Airflow, whose
score_and_handoff run wrote a report). Tests work on their copy and never write the
shared one.

Chromium: the Debian package `chromium` (.ci/run installs it). Without it the browser
tests fail under CI=true and are skipped elsewhere.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from nurture.config import Settings
from tests.conftest import settings_for
from tests.report.browser import Chromium, find_chromium


@dataclass(frozen=True)
class DemoHome:
    home: Path
    stdout: str

    @property
    def settings(self) -> Settings:
        return settings_for(self.home, "duckdb")


@pytest.fixture(scope="session")
def report_home(request: pytest.FixtureRequest, tmp_path_factory) -> DemoHome:
    home = tmp_path_factory.mktemp("report-demo")
    first_demo = request.getfixturevalue("first_demo")
    return DemoHome(home, first_demo(home))


def copy_home(source: DemoHome, dest: Path) -> DemoHome:
    """A test's own copy of the demo home (the warehouse and what the demo wrote)."""
    shutil.copytree(source.home, dest, symlinks=True, dirs_exist_ok=True)
    return DemoHome(dest, source.stdout)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium]:
    binary = find_chromium()
    if binary is None:
        message = "no chromium binary on PATH (apt-get install -y chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + "; CI requires it")
        pytest.skip(message)
    browser = Chromium(binary)
    try:
        yield browser
    finally:
        browser.close()
