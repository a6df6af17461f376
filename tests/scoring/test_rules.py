from pathlib import Path

import pytest

from nurture.scoring.rules import RULES_PATH, RulesError, load_rules


def test_shipped_rules_load():
    rules = load_rules(RULES_PATH)
    assert rules.version
    assert [g.grade for g in rules.grades] == ["A", "B", "C"]


def test_errors_name_line_and_field(tmp_path: Path):
    text = RULES_PATH.read_text(encoding="utf-8").replace(
        "half_life_days: 30", "half_life_days: -3"
    )
    bad = tmp_path / "rules.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(RulesError) as err:
        load_rules(bad)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "half_life_days" in row)
    assert f"line {line}, field engagement.half_life_days" in str(err.value)


def test_bad_regex_is_reported(tmp_path: Path):
    text = RULES_PATH.read_text(encoding="utf-8").replace('pattern: "課長', 'pattern: "(課長')
    bad = tmp_path / "rules.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(RulesError, match=r"title_keywords\.1\.pattern"):
        load_rules(bad)


def test_unknown_field_is_refused(tmp_path: Path):
    bad = tmp_path / "rules.yaml"
    bad.write_text(RULES_PATH.read_text(encoding="utf-8") + "\nbonus: 5\n", encoding="utf-8")
    with pytest.raises(RulesError, match="field bonus"):
        load_rules(bad)


def test_missing_file_is_one_sentence(tmp_path: Path):
    with pytest.raises(RulesError, match="cannot read scoring rules"):
        load_rules(tmp_path / "nope.yaml")
