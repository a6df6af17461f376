"""The project stands alone: its README, docs and dbt project point only inside the
repository, and every relative link in the Markdown resolves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEXT_SUFFIXES = {".md", ".sql", ".yml", ".yaml", ".csv"}
# a Markdown link target that is a path, not a URL or an anchor
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def project_texts() -> list[Path]:
    files = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    files += [
        path
        for path in sorted((ROOT / "dbt_project").rglob("*"))
        if path.suffix in TEXT_SUFFIXES and not {"target", "dbt_packages"} & set(path.parts)
    ]
    return files


@pytest.mark.parametrize("path", project_texts(), ids=lambda p: str(p.relative_to(ROOT)))
def test_nothing_points_outside_the_repository(path: Path):
    text = path.read_text(encoding="utf-8")
    for needle in ("shared/", "DESIGN.md", "STYLE.md"):
        assert needle not in text, f"{path.relative_to(ROOT)} mentions {needle}"


def test_markdown_links_resolve():
    broken = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for target in LINK.findall(path.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue
            if not (path.parent / target).exists():
                broken.append(f"{path.relative_to(ROOT)} -> {target}")
    assert not broken, broken
