"""YAML configuration files validated by pydantic, with errors that name the line and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)


def line_of(text: str, loc: tuple[Any, ...]) -> int | None:
    """Best-effort line number of a validation error's location in the YAML text."""
    node = yaml.compose(text)
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if match is None:
                break
            # The key's line: a nested mapping's value starts on the line below its key.
            line, node = match[0].start_mark.line + 1, match[1]
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _field_name(loc: tuple[Any, ...]) -> str:
    # pydantic marks errors in a mapping's keys with a "[key]" step; the key itself names it.
    return ".".join(str(p) for p in loc if p != "[key]") or "(top level)"


def load_yaml_model(path: Path, model: type[Model], error: type[Exception], what: str) -> Model:
    """Read, parse and validate `path`; every problem becomes `error` with file, line and field."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror}") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {exc}") from exc
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            line = line_of(text, err["loc"])
            where = f"line {line}, " if line else ""
            problems.append(f"{path}: {where}field {_field_name(err['loc'])}: {err['msg']}")
        raise error("\n".join(problems)) from exc
