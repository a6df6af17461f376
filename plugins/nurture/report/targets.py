"""KPI targets for the report: `include/report/kpi_targets.yaml`, validated.

    version: 1
    targets:
      fan_share: 0.10          # a floor: on target when the KPI is at least this
      unsubscribe_rate: 0.005  # a ceiling: lower is better (the KPI says which)

Keys are the report's KPI keys (nurture.report.kpis); values are plain numbers, rates
as fractions (0.5% is 0.005). Every mistake is an error naming the file, the line and
the key: an unknown key, a value that is not a number (`yes`, `"5%"`, `.nan`), a rate
outside 0..1, a key given twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nurture.config import INCLUDE_DIR, ConfigError
from nurture.report.kpis import FRACTION_KPIS, KPI_BY_KEY, Kpi
from nurture.yamlconfig import DuplicateKey, line_of, strict_load

TARGETS_PATH = INCLUDE_DIR / "report" / "kpi_targets.yaml"
SUPPORTED_VERSIONS = (1,)


class TargetsError(ConfigError):
    """The KPI targets file is wrong; the message names the file, line and key."""


@dataclass(frozen=True)
class Targets:
    values: dict[str, float] = field(default_factory=dict)
    path: Path | None = None

    def get(self, key: str) -> float | None:
        return self.values.get(key)


@dataclass(frozen=True)
class TargetStatus:
    kpi: Kpi
    target: float
    value: float | None

    @property
    def on_target(self) -> bool | None:
        """True/False; None while the KPI has no value (no data yet)."""
        if self.value is None:
            return None
        if self.kpi.higher_is_better:
            return self.value >= self.target
        return self.value <= self.target


def load_targets(path: Path | None = None) -> Targets:
    """The targets file (default: include/report/kpi_targets.yaml); a missing default
    file means no targets, a missing explicit file is an error."""
    explicit = path is not None
    path = Path(path) if path is not None else TARGETS_PATH
    if not path.exists():
        if explicit:
            raise TargetsError(f"{path}: no such KPI targets file")
        return Targets({}, None)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TargetsError(f"{path}: cannot read the KPI targets file: {exc}") from exc
    return parse_targets(text, path)


def parse_targets(text: str, path: Path) -> Targets:
    try:
        raw = strict_load(text)
    except DuplicateKey as exc:
        raise TargetsError(f"{path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise TargetsError(f"{path}: not valid YAML: {exc}") from exc
    if raw is None:
        return Targets({}, path)
    if not isinstance(raw, dict):
        raise TargetsError(f"{path}: expected a mapping with `version` and `targets`")

    def where(*loc: Any) -> str:
        line = line_of(text, loc)
        return f"{path}: line {line}" if line else str(path)

    unknown_top = sorted(set(map(str, raw)) - {"version", "targets"})
    if unknown_top:
        key = unknown_top[0]
        raise TargetsError(f"{where(key)}: unknown key {key!r} (expected `version` and `targets`)")
    version = raw.get("version", 1)
    if version not in SUPPORTED_VERSIONS or isinstance(version, bool):
        raise TargetsError(f"{where('version')}: version {version!r} is not supported (use 1)")
    targets = raw.get("targets") or {}
    if not isinstance(targets, dict):
        raise TargetsError(f"{where('targets')}: `targets` must map KPI keys to numbers")
    values: dict[str, float] = {}
    for key, value in targets.items():
        at = where("targets", key)
        if key not in KPI_BY_KEY:
            known = ", ".join(sorted(KPI_BY_KEY))
            raise TargetsError(f"{at}: unknown KPI key {key!r}; known keys: {known}")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TargetsError(
                f"{at}: KPI {key!r}: the target must be a number, not {value!r}"
                + (" (rates are fractions: 0.5% is 0.005)" if isinstance(value, str) else "")
            )
        number = float(value)
        if not math.isfinite(number):
            raise TargetsError(f"{at}: KPI {key!r}: the target must be a finite number")
        if key in FRACTION_KPIS and not 0 <= number <= 1:
            raise TargetsError(
                f"{at}: KPI {key!r} is a rate: its target is a fraction between 0 and 1 "
                f"(0.5% is 0.005), not {value!r}"
            )
        if KPI_BY_KEY[key].kind in ("days", "money", "int") and number < 0:
            raise TargetsError(f"{at}: KPI {key!r}: the target cannot be negative")
        values[key] = number
    return Targets(values, path)


def statuses(targets: Targets, values: dict[str, float | None]) -> list[TargetStatus]:
    """One status per KPI that has a target, in the registry's order."""
    return [
        TargetStatus(KPI_BY_KEY[key], target, values.get(key))
        for key, target in sorted(
            targets.values.items(), key=lambda kv: list(KPI_BY_KEY).index(kv[0])
        )
    ]
