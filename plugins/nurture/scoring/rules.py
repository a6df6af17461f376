"""The scoring rules file: parsed and validated once, with errors that name line and field."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from nurture.config import INCLUDE_DIR
from nurture.scoring.words import ACTIVITY_PHRASES, PROGRAM_STATUS_ACTIVITY, PROGRAM_STATUSES
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
    """Points per activity type, and per new program status for status changes.

    A program status change (`change_status_in_progression`) is worth what its new
    status means: attending more than registering, a no-show nothing (or less), and
    statuses set by sales or the system (Sent, Called, Invited, Member...) nothing.
    """

    half_life_days: float = Field(gt=0)
    activities: dict[str, float] = Field(min_length=1)
    program_statuses: dict[str, float] = {}

    @field_validator("activities")
    @classmethod
    def _known_activities(cls, activities: dict[str, float]) -> dict[str, float]:
        if PROGRAM_STATUS_ACTIVITY in activities:
            raise ValueError(
                f"{PROGRAM_STATUS_ACTIVITY} is scored by its new status: "
                "give points per status under engagement.program_statuses instead"
            )
        unknown = sorted(set(activities) - set(ACTIVITY_PHRASES))
        if unknown:
            raise ValueError(
                f"unknown activity type {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(sorted(ACTIVITY_PHRASES))}"
            )
        return activities

    @field_validator("program_statuses")
    @classmethod
    def _statuses_by_meaning(cls, statuses: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(statuses) - set(PROGRAM_STATUSES))
        if unknown:
            raise ValueError(
                f"unknown program status {', '.join(map(repr, unknown))} (names are "
                f"case-sensitive); known: {', '.join(PROGRAM_STATUSES)}"
            )
        for status, points in statuses.items():
            meaning = PROGRAM_STATUSES[status]
            if points > 0 and not meaning.may_earn:
                who = "a no-show" if meaning.kind == "no_show" else "set by sales or the system"
                raise ValueError(
                    f"program status {status!r} is {who}, not something the lead did: "
                    f"it cannot earn points (got {points:g}; use 0 or less)"
                )
        attended, registered = statuses.get("Attended"), statuses.get("Registered")
        if attended is not None and registered is not None and attended < registered:
            raise ValueError(
                f"'Attended' ({attended:g}) must be worth at least 'Registered' ({registered:g})"
            )
        return statuses


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
