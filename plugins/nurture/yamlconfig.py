"""YAML configuration files validated by pydantic, with errors that name the line and field."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)


class DuplicateKey(yaml.YAMLError):
    """A mapping names the same key twice (YAML would silently keep the last)."""


class StrictLoader(yaml.SafeLoader):
    """YAML as people mean it: a key given twice is an error, not "last one wins", and
    only `true`/`false` are booleans (YAML 1.2): `yes`, `no`, `on`, `off` stay text, so
    `unsubscribed: yes` in a rules file is refused as a number instead of read as 1.0."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise DuplicateKey(
                    f"line {line}: key {key!r} given twice (first on line {seen[key]})"
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


# YAML 1.1's boolean words out, YAML 1.2's in.
StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def strict_load(text: str) -> Any:
    return yaml.load(text, Loader=StrictLoader)


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
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise error(
            f"{path}: line {line}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); "
            f"save the {what} as UTF-8"
        ) from exc
    try:
        raw = strict_load(text)
    except DuplicateKey as exc:
        raise error(f"{path}: {exc}") from exc
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
