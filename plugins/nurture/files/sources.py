"""`include/files/sources.yaml`: the drop folder and the kinds of file it receives.

Loaded once and validated; every error names the file, line and field.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from nurture.config import INCLUDE_DIR, ConfigError
from nurture.files.columns import COLUMNS, LAYOUTS, Layout
from nurture.files.values import DEFAULT_DATE_FORMATS, DateFormat
from nurture.yamlconfig import load_yaml_model

SOURCES_PATH = INCLUDE_DIR / "files" / "sources.yaml"
IMPORTED_FILES_TABLE = "imported_files"
_KIND_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class SourcesError(ConfigError):
    """The sources file is invalid; the message gives the file, line and field."""


def fold(text: str) -> str:
    """How headers and file names compare: NFKC (full-width to ASCII, macOS NFD names
    composed), case-folded, without spaces, so "Ｅ－ｍａｉｌ " and "e-mail" are the same."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def _known_column(name: str) -> str:
    if name not in COLUMNS:
        raise ValueError(f"unknown column {name!r}; use one of {', '.join(COLUMNS)}")
    return name


def _table_name(name: str) -> str:
    if not _KIND_NAME.match(name):
        raise ValueError(
            f"kind {name!r} names a table: use lowercase letters, digits and _, "
            "starting with a letter"
        )
    if name == IMPORTED_FILES_TABLE:
        raise ValueError(f"{IMPORTED_FILES_TABLE!r} is the table of imported files")
    return name


ColumnName = Annotated[str, AfterValidator(_known_column)]
KindName = Annotated[str, AfterValidator(_table_name)]
HeaderMap = dict[ColumnName, list[str]]


def header_lookup(*mappings: HeaderMap) -> dict[str, str]:
    """Folded header → column; one header meaning two columns is a configuration error."""
    lookup: dict[str, str] = {}
    for mapping in mappings:
        for column, headers in mapping.items():
            for header in headers:
                other = lookup.setdefault(fold(header), column)
                if other != column:
                    raise ValueError(f"header {header!r} is mapped to both {other} and {column}")
    return lookup


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Kind(_Strict):
    globs: list[str] = Field(min_length=1)
    headers: HeaderMap = {}
    # Which columns raw_files.<kind> has (columns.LAYOUTS); mapped headers of columns not
    # in it are kept in `extra`.
    layout: Layout = "contacts"
    # The column a row cannot do without: missing, the row is quarantined. Other
    # columns may be empty (an e-mail that is there must still be an address).
    key: ColumnName = "email"
    # The header: this row (1 = the first), or else the first row (within
    # header_search_rows) with at least header_min_matches cells naming known headers
    # (all the kind's columns, when it maps fewer) and one naming the key column.
    header_row: int | None = Field(default=None, ge=1)
    header_min_matches: int = Field(default=2, ge=1)
    # How dates are written: ymd (2026-10-01, 2026/10/01 9:30, 20261001), dmy
    # (01-10-2026), mdy (10/01/2026), japanese (2026年10月1日, 令和8年10月1日, R8.10.1).
    # With both dmy and mdy, a date that reads as two days is quarantined as ambiguous.
    date_formats: list[DateFormat] = Field(default=list(DEFAULT_DATE_FORMATS), min_length=1)
    # The worksheet of an .xlsx file (by name); the first one when not given.
    sheet: str | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        return LAYOUTS[self.layout]


class Sources(_Strict):
    drop_folder: str | None = None
    settle_seconds: float = Field(default=60, ge=0)
    header_search_rows: int = Field(default=10, ge=1)
    encodings: list[str] = Field(default=["utf_8", "cp932"], min_length=1)
    headers: HeaderMap = {}
    kinds: dict[KindName, Kind] = Field(min_length=1)

    @field_validator("encodings")
    @classmethod
    def _known_encodings(cls, encodings: list[str]) -> list[str]:
        for name in encodings:
            try:
                codecs.lookup(name)
            except LookupError as exc:
                raise ValueError(f"{name!r} is not an encoding Python knows") from exc
        return encodings

    @field_validator("headers")
    @classmethod
    def _unambiguous(cls, headers: HeaderMap) -> HeaderMap:
        header_lookup(headers)
        return headers

    @field_validator("kinds")
    @classmethod
    def _kinds_map_email(cls, kinds: dict[str, Kind], info: ValidationInfo) -> dict[str, Kind]:
        shared = info.data.get("headers", {})
        for name, kind in kinds.items():
            try:
                lookup = header_lookup(shared, kind.headers)
            except ValueError as exc:
                raise ValueError(f"kind {name}: {exc}") from exc
            if kind.key not in kind.columns:
                raise ValueError(
                    f"kind {name}: key {kind.key} is not a column of layout {kind.layout} "
                    f"({', '.join(kind.columns)})"
                )
            # Every row needs its key: a kind that cannot find one would quarantine all.
            if kind.key not in lookup.values():
                raise ValueError(f"kind {name}: no header is mapped to {kind.key}")
        return kinds

    def lookup(self, kind: str) -> dict[str, str]:
        """The headers of `kind` (shared ones and its own), folded, to their columns."""
        return header_lookup(self.headers, self.kinds[kind].headers)

    def kind_of(self, file_name: str) -> str | None:
        """The first kind (in file order) with a glob matching the name; case, spaces and
        full-width forms do not matter."""
        name = fold(file_name)
        for kind, config in self.kinds.items():
            if any(fnmatchcase(name, fold(glob)) for glob in config.globs):
                return kind
        return None


def load_sources(path: Path = SOURCES_PATH) -> Sources:
    return load_yaml_model(path, Sources, SourcesError, "file sources")
