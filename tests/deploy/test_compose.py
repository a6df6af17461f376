"""The Docker deployment: docker-compose.yaml, Dockerfile and .dockerignore.

No Docker engine is needed. The compose file is checked against the Compose Specification
schema shipped in include/compose/ (the one Debian's docker-compose 1.29 validates with),
after doing what Compose does first: YAML anchors and merge keys, then `${VAR:-default}`
interpolation. `docker-compose config -q` runs too when the binary is on PATH; in CI
(CI=true) a missing binary is a failure, never a skip.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yaml"
SCHEMA_FILE = ROOT / "include" / "compose" / "compose_spec.json"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

AIRFLOW_COMMANDS = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "celery worker",
}
REQUIRED_SERVICES = {*AIRFLOW_COMMANDS, "airflow-init", "postgres", "redis", "sandbox"}
# the wall clock: scheduled runs of a deployment must find the world's today (and new activity)
SANDBOX_COMMAND = (
    "nurture sandbox serve --seed 42 --leads 5000 --host 0.0.0.0 --port 8765 --clock wall"
)
CONNECTIONS = ("MARKETO", "HUBSPOT", "SALESFORCE", "SLACK")
ONE_SHOT = {"airflow-init", "airflow-cli"}
DOCKERFILE_MUST_COPY = ("pyproject.toml", "uv.lock", "dags", "plugins", "include", "dbt_project")

# $$ | ${NAME[:-|-|:?|?]rest} | $NAME, as Compose reads them.
_INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[^}]*)\}|(?P<named>[A-Za-z_][A-Za-z0-9_]*))"
)
_BRACED = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:-|-|:\?|\?)(?P<arg>.*))?$", re.S)


class MissingVariable(KeyError):
    pass


def interpolate(value: str, env: dict[str, str], no_default: set[str] | None = None) -> str:
    """One string with Compose's variable substitution applied."""

    def replace(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        if match.group("named"):
            name = match.group("named")
            if no_default is not None and name not in env:
                no_default.add(name)
            return env.get(name, "")
        braced = _BRACED.match(match.group("braced"))
        if braced is None:
            raise ValueError(f"invalid interpolation {match.group(0)!r} in {value!r}")
        name, op, arg = braced.group("name", "op", "arg")
        current = env.get(name)
        if op == ":-":
            return current if current else arg
        if op == "-":
            return arg if current is None else current
        if op in (":?", "?") and (current is None or (op == ":?" and not current)):
            raise MissingVariable(f"{name}: {arg}")
        if op is None and current is None and no_default is not None:
            no_default.add(name)
        return current or ""

    return _INTERPOLATION.sub(replace, value)


def resolve(node: Any, env: dict[str, str], no_default: set[str] | None = None) -> Any:
    """A copy of the loaded YAML with every string (keys too) interpolated."""
    if isinstance(node, dict):
        return {resolve(k, env, no_default): resolve(v, env, no_default) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, env, no_default) for v in node]
    if isinstance(node, str):
        return interpolate(node, env, no_default)
    return node


def command_line(value: str | list[str] | None) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else shlex.join(value)


def depends_on_names(service: dict[str, Any]) -> list[str]:
    deps = service.get("depends_on") or []
    return list(deps) if isinstance(deps, dict) else deps


def dockerfile_instructions() -> list[tuple[str, list[str]]]:
    """(INSTRUCTION, args) with line continuations joined and comments dropped."""
    text = DOCKERFILE.read_text()
    logical: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    if current:
        logical.append(current)
    out = []
    for line in logical:
        word, _, rest = line.partition(" ")
        out.append((word.upper(), shlex.split(rest)))
    return out


def dockerfile_copy_sources() -> list[str]:
    sources: list[str] = []
    for instruction, args in dockerfile_instructions():
        if instruction not in ("COPY", "ADD"):
            continue
        if any(a.startswith("--from") for a in args):
            continue
        paths = [a for a in args if not a.startswith("--")]
        sources.extend(p.rstrip("/") or "." for p in paths[:-1])
    return sources


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    # PyYAML's safe loader resolves anchors, aliases and `<<` merge keys as Compose does.
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def compose(raw: dict[str, Any]) -> dict[str, Any]:
    """The file as Compose sees it with no .env and nothing exported: every default."""
    return resolve(raw, env={})


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def test_schema_is_the_compose_spec() -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    assert schema["title"] == "Compose Specification"
    jsonschema.validators.validator_for(schema).check_schema(schema)


def test_compose_file_matches_the_schema(compose: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(compose), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors
    )


def test_every_variable_has_a_default(raw: dict[str, Any]) -> None:
    no_default: set[str] = set()
    resolve(raw, env={}, no_default=no_default)
    assert not no_default, f"give these a ${{VAR:-default}}: {sorted(no_default)}"


def test_dotenv_style_overrides_reach_the_services(raw: dict[str, Any]) -> None:
    env = {"POSTGRES_PASSWORD": "s3cret", "HUBSPOT_TOKEN": "pat-real", "AIRFLOW_UID": "1234"}
    services = resolve(raw, env)["services"]
    worker = services["airflow-worker"]
    assert ":s3cret@postgres" in worker["environment"]["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert worker["environment"]["NURTURE_PG_PASSWORD"] == "s3cret"
    hubspot = json.loads(worker["environment"]["AIRFLOW_CONN_HUBSPOT_DEFAULT"])
    assert hubspot["password"] == "pat-real"
    assert worker["user"] == "1234:0"
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == "s3cret"


def test_required_services_and_commands(services: dict[str, dict[str, Any]]) -> None:
    assert services.keys() >= REQUIRED_SERVICES
    for name, expected in AIRFLOW_COMMANDS.items():
        assert command_line(services[name]["command"]) == expected, name
    assert command_line(services["sandbox"]["command"]) == SANDBOX_COMMAND
    init = command_line(services["airflow-init"]["command"])
    assert "airflow db migrate" in init
    assert "simple_auth_manager_passwords.json" in init


def test_airflow_services_share_one_image_and_the_celery_executor(
    services: dict[str, dict[str, Any]],
) -> None:
    airflow = {n: s for n, s in services.items() if n.startswith("airflow-")}
    assert set(AIRFLOW_COMMANDS) | {"airflow-init"} <= airflow.keys()
    images = {s["image"] for s in airflow.values()} | {services["sandbox"]["image"]}
    assert len(images) == 1, images
    for name, service in (*airflow.items(), ("sandbox", services["sandbox"])):
        assert service["build"] == {"context": ".", "dockerfile": "Dockerfile"}, name
    for name, service in airflow.items():
        env = service["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "false", name
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
        assert "@postgres:5432/" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
        assert "@redis:6379/" in env["AIRFLOW__CELERY__BROKER_URL"]
        assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://")
        assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/nurture/dags"
        assert env["NURTURE_HOME"] == "/opt/airflow/nurture"
        assert env["NURTURE_WAREHOUSE"] == "postgres"
        assert env["NURTURE_PG_HOST"] == "postgres"
        assert env["NURTURE_PG_DATABASE"] == "nurture"
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"], f"{name}: components must share one"
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == (
            "http://airflow-apiserver:8080/execution/"
        )
    assert services["airflow-worker"]["environment"]["DUMB_INIT_SETSID"] == "0"


def test_connections_point_at_the_sandbox(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        if not name.startswith("airflow-"):
            continue
        for system in CONNECTIONS:
            value = service["environment"][f"AIRFLOW_CONN_{system}_DEFAULT"]
            conn = json.loads(value)
            assert conn["conn_type"] == "http", (name, system)
            assert conn["host"].startswith("http://sandbox:8765"), (name, system)
            assert {"login", "password"} <= conn.keys(), (name, system)


def test_healthchecks(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        if name in ONE_SHOT:
            continue
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    sandbox_check = command_line(services["sandbox"]["healthcheck"]["test"])
    assert "http://localhost:8765/health" in sandbox_check


def test_depends_on_references(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        deps = service.get("depends_on") or {}
        for dep in depends_on_names(service):
            assert dep in services, f"{name} depends on unknown service {dep}"
            condition = deps[dep]["condition"] if isinstance(deps, dict) else None
            if condition == "service_healthy":
                assert services[dep].get("healthcheck"), f"{name} waits on {dep}'s health"
            if condition == "service_completed_successfully":
                assert dep in ONE_SHOT, f"{name} waits for {dep} to exit"
    for name in AIRFLOW_COMMANDS:
        deps = services[name]["depends_on"]
        assert deps["postgres"]["condition"] == "service_healthy", name
        assert deps["redis"]["condition"] == "service_healthy", name
        assert deps["airflow-init"]["condition"] == "service_completed_successfully", name


def test_bind_mounts_exist(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume["source"]
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
    init_scripts = [v for v in services["postgres"]["volumes"] if "docker-entrypoint-initdb.d" in v]
    assert init_scripts, "postgres needs the init script that creates the nurture database"


def locked_version(package: str) -> str:
    import tomllib

    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    [version] = [p["version"] for p in lock["package"] if p["name"] == package]
    return version


def test_airflow_init_creates_the_warehouse_pool(services: dict[str, dict[str, Any]]) -> None:
    script = "\n".join(services["airflow-init"]["command"])
    assert script.index("airflow db migrate") < script.index("nurture airflow-init")


def test_dockerfile_base_image_and_copies() -> None:
    instructions = dockerfile_instructions()
    # the image's Airflow is the locked one: the lock's packages are installed over it
    assert instructions[0] == (
        "FROM",
        [f"apache/airflow:{locked_version('apache-airflow')}-python3.11"],
    )
    sources = dockerfile_copy_sources()
    missing = [s for s in sources if not (ROOT / s).exists()]
    assert not missing, f"Dockerfile copies paths absent from the repo: {missing}"
    for path in DOCKERFILE_MUST_COPY:
        assert path in sources, f"Dockerfile does not copy {path}"


def test_dockerignore_keeps_what_the_dockerfile_copies() -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#") and not line.startswith("!")
    ]
    assert ".venv" in {p.strip("/") for p in patterns}
    for source in dockerfile_copy_sources():
        hits = [p for p in patterns if fnmatch.fnmatch(source, p.strip("/"))]
        assert not hits, f".dockerignore pattern(s) {hits} drop {source}"


def docker_compose() -> str:
    """The docker-compose binary; in CI its absence fails the test instead of skipping it."""
    binary = shutil.which("docker-compose")
    if binary is None:
        message = (
            "docker-compose is not on PATH: `apt-get install -y docker-compose` "
            "(Debian's 1.29 validates the file without a Docker engine)"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return binary


def run_docker_compose(*args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [docker_compose(), "-f", str(COMPOSE_FILE), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr or result.stdout
    return result.stdout


def test_docker_compose_config() -> None:
    run_docker_compose("config", "-q")


def test_docker_compose_agrees_with_this_interpolation(
    services: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    """With no .env and none of the file's variables exported, Compose resolves as we do."""
    ours = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", COMPOSE_FILE.read_text()))
    env = {k: v for k, v in os.environ.items() if k not in ours}
    empty_env_file = tmp_path / ".env"
    empty_env_file.write_text("")
    theirs = yaml.safe_load(
        run_docker_compose("--env-file", str(empty_env_file), "config", env=env)
    )
    assert theirs["services"].keys() == services.keys()
    for name, service in services.items():
        assert theirs["services"][name].get("environment") == service.get("environment"), name
        assert theirs["services"][name]["image"] == service["image"], name
