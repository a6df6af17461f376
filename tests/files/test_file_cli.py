"""`nurture files import`: a summary on success, one clear sentence for user mistakes."""

from __future__ import annotations

import pytest

from nurture.cli import main
from nurture.files.sources import SOURCES_PATH
from tests.files.dropped import drop_fixtures


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("NURTURE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NURTURE_WAREHOUSE", "duckdb")
    return tmp_path / "home"


def test_import_prints_what_it_did(home, tmp_path, capsys):
    drop = drop_fixtures(tmp_path / "drop", "sansan_export_202610.csv")
    assert main(["files", "import", "--path", str(drop)]) == 0
    out = capsys.readouterr().out
    assert f"drop folder {drop}: 1 file(s) ready" in out
    assert "business_cards   sansan_export_202610.csv: cp932, 3 rows, 0 quarantined" in out
    assert f"moved to {drop / 'processed'}" in out


def test_a_missing_folder_is_one_sentence(home, tmp_path, capsys):
    assert main(["files", "import", "--path", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"nurture: error: drop folder {tmp_path / 'nope'} does not exist")
    assert "Traceback" not in err


def test_a_bad_sources_file_names_line_and_field(home, tmp_path, capsys):
    text = SOURCES_PATH.read_text(encoding="utf-8")
    bad = tmp_path / "sources.yaml"
    bad.write_text(text.replace("header_search_rows: 10", "header_search_rows: x"), "utf-8")
    line = text.splitlines().index("header_search_rows: 10") + 1
    assert main(["files", "import", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"line {line}, field header_search_rows: Input should be a valid integer" in err
    assert "Traceback" not in err
