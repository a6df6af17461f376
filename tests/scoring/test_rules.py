from pathlib import Path

import pytest

from nurture.scoring.rules import RULES_PATH, RulesError, load_rules


def _bad(tmp_path: Path, old: str, new: str) -> tuple[Path, str]:
    text = RULES_PATH.read_text(encoding="utf-8")
    assert old in text
    text = text.replace(old, new, 1)
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path, text


def _line(text: str, needle: str) -> int:
    return next(i for i, row in enumerate(text.splitlines(), 1) if needle in row)


def test_shipped_rules_load():
    rules = load_rules(RULES_PATH)
    assert rules.version
    assert [g.grade for g in rules.grades] == ["A", "B", "C"]
    assert rules.lifecycle.recycled_cooldown_days > 0
    assert rules.lifecycle.rejected_cooldown_days is None
    assert any("部長" in r.pattern and "Director" in r.pattern for r in rules.fit.seniority)


def test_points_must_be_numbers_with_line_and_field(tmp_path: Path):
    path, text = _bad(tmp_path, "Software: 20", "Software: lots")
    with pytest.raises(RulesError) as err:
        load_rules(path)
    message = str(err.value)
    assert f"line {_line(text, 'Software: lots')}, field fit.industry.Software" in message
    assert "valid number" in message
    assert "Traceback" not in message and "\n" not in message


def test_negative_half_life_is_refused(tmp_path: Path):
    path, text = _bad(tmp_path, "half_life_days: 30", "half_life_days: -3")
    with pytest.raises(RulesError) as err:
        load_rules(path)
    line = _line(text, "half_life_days")
    assert f"line {line}, field engagement.half_life_days" in str(err.value)


def test_bad_regex_is_reported(tmp_path: Path):
    path, _ = _bad(tmp_path, 'pattern: "課長', 'pattern: "(課長')
    with pytest.raises(RulesError, match=r"seniority\.1\.pattern: .*regular expression"):
        load_rules(path)


def test_negative_cooldown_is_refused(tmp_path: Path):
    path, text = _bad(tmp_path, "recycled_cooldown_days: 30", "recycled_cooldown_days: -1")
    with pytest.raises(RulesError) as err:
        load_rules(path)
    line = _line(text, "recycled_cooldown_days")
    assert f"line {line}, field lifecycle.recycled_cooldown_days" in str(err.value)


def test_unknown_field_is_refused(tmp_path: Path):
    bad = tmp_path / "rules.yaml"
    bad.write_text(RULES_PATH.read_text(encoding="utf-8") + "\nbonus: 5\n", encoding="utf-8")
    with pytest.raises(RulesError, match="field bonus"):
        load_rules(bad)


def test_not_yaml_is_one_sentence(tmp_path: Path):
    bad = tmp_path / "rules.yaml"
    bad.write_text("fit: [unclosed\n", encoding="utf-8")
    with pytest.raises(RulesError, match="not valid YAML"):
        load_rules(bad)


def test_missing_file_is_one_sentence(tmp_path: Path):
    with pytest.raises(RulesError, match="cannot read scoring rules"):
        load_rules(tmp_path / "nope.yaml")
