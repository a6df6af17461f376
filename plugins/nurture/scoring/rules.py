"""The scoring rules file: parsed and validated once, with errors that name line and field."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from nurture.config import INCLUDE_DIR

RULES_PATH = INCLUDE_DIR / "scoring" / "rules.yaml"


class RulesError(ValueError):
    """The rules file is invalid; the message gives the file, line and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TitleRule(_Strict):
    pattern: str
    points: float
    reason: str

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from exc
        return value


class EmployeesRule(_Strict):
    min: int = Field(ge=0)
    points: float
    reason: str


class Fit(_Strict):
    industry: dict[str, float] = {}
    title_keywords: list[TitleRule] = []
    employees: list[EmployeesRule] = []


class Engagement(_Strict):
    half_life_days: float = Field(gt=0)
    activities: dict[str, float]


class FreeMail(_Strict):
    points: float
    domains: list[str]


class Negative(_Strict):
    unsubscribed: float = 0
    email_invalid: float = 0
    free_mail: FreeMail | None = None


class GradeRule(_Strict):
    grade: str
    min_fit: float


class Rules(_Strict):
    version: str
    fit: Fit
    engagement: Engagement
    negative: Negative = Negative()
    grades: list[GradeRule] = Field(min_length=1)
    mql: dict[str, float]

    @field_validator("grades")
    @classmethod
    def _descending(cls, grades: list[GradeRule]) -> list[GradeRule]:
        floors = [g.min_fit for g in grades]
        if floors != sorted(floors, reverse=True):
            raise ValueError("grades must be listed from the highest min_fit to the lowest")
        return grades

    def model_post_init(self, __context: Any) -> None:
        unknown = set(self.mql) - {g.grade for g in self.grades}
        if unknown:
            raise ValueError(f"mql names grades that are not defined: {sorted(unknown)}")


def _line_of(text: str, loc: tuple[Any, ...]) -> int | None:
    """Best-effort line number of a validation error's location in the YAML text."""
    node = yaml.compose(text)
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == str(part)), None)
            if match is None:
                break
            line, node = match.start_mark.line + 1, match
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def load_rules(path: Path = RULES_PATH) -> Rules:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesError(f"cannot read scoring rules {path}: {exc.strerror}") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RulesError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return Rules.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "(top level)"
            line = _line_of(text, err["loc"])
            where = f"line {line}, " if line else ""
            problems.append(f"{path}: {where}field {field}: {err['msg']}")
        raise RulesError("\n".join(problems)) from exc
