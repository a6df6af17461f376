"""Config typos are clear errors with file, line and field, never a silent change of
meaning: a key given twice, `yes` where a number belongs, a file not in UTF-8."""

from __future__ import annotations

from pathlib import Path

import pytest

from nurture.handoff.owners import OwnerRulesError, load_owner_rules
from nurture.scoring.rules import RULES_PATH, RulesError, load_rules


def _rules_with(tmp_path: Path, old: str, new: str) -> Path:
    text = RULES_PATH.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "rules.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_the_shipped_rules_still_load():
    assert load_rules().version


def test_a_key_given_twice_is_an_error_with_both_lines(tmp_path):
    path = _rules_with(tmp_path, "    Software: 20\n", "    Software: 20\n    Software: 2\n")
    with pytest.raises(RulesError) as raised:
        load_rules(path)
    message = str(raised.value)
    assert str(path) in message and "key 'Software' given twice" in message
    line = next(
        n
        for n, text in enumerate(path.read_text().splitlines(), 1)
        if text.strip() == "Software: 2"
    )
    assert f"line {line}:" in message and f"(first on line {line - 1})" in message


def test_yes_is_not_read_as_one_point(tmp_path):
    path = _rules_with(tmp_path, "  unsubscribed: -40", "  unsubscribed: yes")
    with pytest.raises(RulesError, match=r"line \d+, field .*unsubscribed"):
        load_rules(path)


def test_a_rules_file_not_in_utf8_is_a_clear_error(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_bytes(RULES_PATH.read_text(encoding="utf-8").encode("cp932", errors="replace"))
    with pytest.raises(RulesError, match=r"line \d+: not UTF-8 text \(byte 0x[0-9a-f]{2}\)"):
        load_rules(path)


def test_owner_rules_refuse_a_duplicate_key(tmp_path):
    from nurture.handoff.owners import OWNERS_PATH

    text = OWNERS_PATH.read_text(encoding="utf-8")
    first_line = next(line for line in text.splitlines() if line and not line.startswith("#"))
    path = tmp_path / "owners.yaml"
    path.write_text(text + "\n" + first_line + "\n", encoding="utf-8")
    with pytest.raises(OwnerRulesError, match="given twice"):
        load_owner_rules(path)
