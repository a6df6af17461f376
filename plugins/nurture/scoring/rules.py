"""The scoring rules file: parsed and validated once, with errors that name line and field."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from nurture.config import INCLUDE_DIR
from nurture.yamlconfig import load_yaml_model

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


def load_rules(path: Path = RULES_PATH) -> Rules:
    return load_yaml_model(path, Rules, RulesError, "scoring rules")
