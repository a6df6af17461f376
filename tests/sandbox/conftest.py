"""Small sandbox worlds shared by the sandbox tests (built once per session)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from nurture.sandbox.server import SandboxURL, running_sandbox
from nurture.sandbox.world import ensure_world

SEED = 11
LEADS = 1500
AUTH = {"Authorization": "Bearer test-token"}


@pytest.fixture(scope="session")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("nurture-home")


@pytest.fixture(scope="session")
def world(home: Path) -> Path:
    return ensure_world(SEED, LEADS, home)


@pytest.fixture(scope="session")
def base_url(home: Path, world: Path) -> Iterator[str]:
    with running_sandbox(SEED, LEADS, home=home, rate_limits=False) as url:
        yield url


@pytest.fixture(scope="session")
def tls_url(home: Path, world: Path) -> Iterator[SandboxURL]:
    """A second server over HTTPS with a certificate made at start (``tls_url.ca_file``)."""
    with running_sandbox(SEED, LEADS, home=home, rate_limits=False, tls=True) as url:
        yield url


@pytest.fixture()
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, headers=AUTH, timeout=30) as c:
        yield c
