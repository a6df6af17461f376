"""The scoring rules file: parsed and validated once, with errors that name line and field."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from nurture.config import INCLUDE_DIR
from nurture.yamlconfig import load_yaml_model

RULES_PATH = INCLUDE_DIR / "scoring" / "rules.yaml"


class RulesError(ValueError):
    """The rules file is invalid; the message gives the file, line and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _compiles(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from exc
    return value


class TitleRule(_Strict):
    """A regular expression on the job title (Japanese or English) and its points."""

    pattern: str
    points: float
    reason: str

    _pattern = field_validator("pattern")(_compiles)


class Fit(_Strict):
    industry: dict[str, float] = {}
    size_band: dict[str, float] = {}
    seniority: list[TitleRule] = []
    department: dict[str, float] = {}


class Engagement(_Strict):
    half_life_days: float = Field(gt=0)
    activities: dict[str, float] = Field(min_length=1)


class Domains(_Strict):
    points: float
    domains: list[str]


class UrlRule(_Strict):
    pattern: str
    points: float

    _pattern = field_validator("pattern")(_compiles)


class Negative(_Strict):
    unsubscribed: float = 0
    hard_bounce: float = 0
    free_mail: Domains | None = None
    competitor: Domains | None = None
    careers_pages: UrlRule | None = None


class GradeRule(_Strict):
    grade: str
    min_fit: float


class Lifecycle(_Strict):
    """Cool-downs after sales' verdict; `None` for rejected means never again."""

    recycled_cooldown_days: float = Field(default=30, ge=0)
    rejected_cooldown_days: float | None = Field(default=None, ge=0)


class ModelSettings(_Strict):
    holdout_days: int = Field(default=180, gt=0)
    min_positives: int = Field(default=20, ge=2)


class Rules(_Strict):
    version: str
    fit: Fit
    engagement: Engagement
    negative: Negative = Negative()
    grades: list[GradeRule] = Field(min_length=1)
    mql: dict[str, float]
    lifecycle: Lifecycle = Lifecycle()
    model: ModelSettings = ModelSettings()

    @field_validator("grades")
    @classmethod
    def _descending(cls, grades: list[GradeRule]) -> list[GradeRule]:
        floors = [g.min_fit for g in grades]
        if floors != sorted(floors, reverse=True):
            raise ValueError("grades must be listed from the highest min_fit to the lowest")
        return grades

    @model_validator(mode="after")
    def _mql_grades_exist(self) -> Rules:
        unknown = set(self.mql) - {g.grade for g in self.grades}
        if unknown:
            raise ValueError(f"mql names grades that are not defined: {sorted(unknown)}")
        return self


def load_rules(path: Path = RULES_PATH) -> Rules:
    """Read and validate the rules; a mistake raises `RulesError` naming line and field."""
    return load_yaml_model(path, Rules, RulesError, "scoring rules")
