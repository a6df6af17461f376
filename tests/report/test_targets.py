"""The KPI targets file: what it accepts, and the errors that name the file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from nurture.cli import main
from nurture.config import ConfigError
from nurture.report.kpis import KPI_BY_KEY
from nurture.report.targets import (
    TARGETS_PATH,
    TargetsError,
    load_targets,
    parse_targets,
    statuses,
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kpi_targets.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_targets_file_is_valid_and_uses_known_keys():
    targets = load_targets()
    assert targets.path == TARGETS_PATH
    assert targets.values, "the shipped file sets targets"
    assert set(targets.values) <= set(KPI_BY_KEY)
    assert targets.values["unsubscribe_rate"] == 0.005


def test_numbers_are_read_as_floats(tmp_path):
    path = write(tmp_path, "version: 1\ntargets:\n  fan_share: 0.1\n  median_days_mql_to_sal: 2\n")
    assert load_targets(path).values == {"fan_share": 0.1, "median_days_mql_to_sal": 2.0}


def test_an_empty_file_sets_no_targets(tmp_path):
    assert load_targets(write(tmp_path, "# nothing yet\n")).values == {}
    assert load_targets(write(tmp_path, "version: 1\ntargets:\n")).values == {}


def test_unknown_kpi_key_names_file_line_and_key(tmp_path):
    path = write(tmp_path, "version: 1\ntargets:\n  fan_share: 0.1\n  fan_shar: 0.2\n")
    with pytest.raises(TargetsError) as error:
        load_targets(path)
    message = str(error.value)
    assert str(path) in message
    assert "line 4" in message
    assert "unknown KPI key 'fan_shar'" in message
    assert "fan_share" in message  # the known keys are listed


@pytest.mark.parametrize(
    "value, hint",
    [
        ('"5%"', "rates are fractions"),
        ("five", "not 'five'"),
        ("yes", "not 'yes'"),  # YAML 1.1's boolean word stays text and is refused
        ("true", "not True"),
        ("[0.1]", "not [0.1]"),
        ("", "not None"),
    ],
)
def test_a_target_that_is_not_a_number_is_refused(tmp_path, value, hint):
    path = write(tmp_path, f"version: 1\ntargets:\n  email_ctr: {value}\n")
    with pytest.raises(TargetsError) as error:
        load_targets(path)
    message = str(error.value)
    assert f"{path}: line 3" in message
    assert "KPI 'email_ctr'" in message and "must be a number" in message
    assert hint in message


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_a_target_must_be_finite(tmp_path, value):
    with pytest.raises(TargetsError, match="'unsubscribe_rate': the target must be a finite"):
        load_targets(write(tmp_path, f"targets:\n  unsubscribe_rate: {value}\n"))


def test_a_rate_target_is_a_fraction(tmp_path):
    with pytest.raises(TargetsError) as error:
        load_targets(write(tmp_path, "targets:\n  unsubscribe_rate: 5\n"))
    assert "is a rate" in str(error.value) and "0.005" in str(error.value)
    # ROI is a percentage that may pass 100%
    assert load_targets(write(tmp_path, "targets:\n  campaign_roi: 2.5\n")).values == {
        "campaign_roi": 2.5
    }


def test_negative_days_or_money_are_refused(tmp_path):
    with pytest.raises(TargetsError, match="cannot be negative"):
        load_targets(write(tmp_path, "targets:\n  ltv_per_customer: -1\n"))


def test_a_key_given_twice_is_refused(tmp_path):
    with pytest.raises(TargetsError, match="given twice"):
        load_targets(write(tmp_path, "targets:\n  fan_share: 0.1\n  fan_share: 0.2\n"))


def test_structure_errors(tmp_path):
    with pytest.raises(TargetsError, match="unknown key 'target'"):
        load_targets(write(tmp_path, "target:\n  fan_share: 0.1\n"))
    with pytest.raises(TargetsError, match="version 2 is not supported"):
        load_targets(write(tmp_path, "version: 2\ntargets: {}\n"))
    with pytest.raises(TargetsError, match="must map KPI keys to numbers"):
        load_targets(write(tmp_path, "targets:\n  - fan_share\n"))
    with pytest.raises(TargetsError, match="not valid YAML"):
        load_targets(write(tmp_path, "targets: [\n"))
    with pytest.raises(TargetsError, match="expected a mapping"):
        load_targets(write(tmp_path, "- 1\n"))


def test_an_explicit_missing_file_is_an_error(tmp_path):
    with pytest.raises(TargetsError, match="no such KPI targets file"):
        load_targets(tmp_path / "missing.yaml")


def test_targets_error_is_a_config_error_the_cli_prints(tmp_path, capsys, monkeypatch):
    assert issubclass(TargetsError, ConfigError)
    monkeypatch.setenv("NURTURE_HOME", str(tmp_path / "home"))
    path = write(tmp_path, "targets:\n  nope: 1\n")
    assert main(["report", "--targets", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nurture: error: ")
    assert f"{path}: line 2: unknown KPI key 'nope'" in err


def test_on_and_off_target_follow_the_kpis_direction(tmp_path):
    targets = parse_targets(
        "targets:\n  email_ctr: 0.05\n  unsubscribe_rate: 0.005\n  fan_share: 0.1\n",
        tmp_path / "t.yaml",
    )
    found = {
        s.kpi.key: s.on_target
        for s in statuses(targets, {"email_ctr": 0.05, "unsubscribe_rate": 0.006})
    }
    assert found == {
        "fan_share": None,  # no value yet: neither on nor off
        "email_ctr": True,  # higher is better: at the target is on target
        "unsubscribe_rate": False,  # lower is better: above the ceiling is off
    }
