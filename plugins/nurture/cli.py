"""The `nurture` command: demo, syncs, file imports, gates, scoring and the sandbox."""

from __future__ import annotations

import argparse
import importlib.abc
import importlib.util
import json
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nurture.config import ConfigError, load_settings

FAULT_PROFILES = ("none", "flaky", "messy", "chaos")


def _timestamp(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an ISO date or timestamp, e.g. 2026-10-01"
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from exc
    if number <= 0:
        raise argparse.ArgumentTypeError("must be greater than zero")
    return number


def cmd_demo(args: argparse.Namespace) -> int:
    from nurture.demo import run_demo
    from nurture.progress import for_terminal

    settings = load_settings()
    print(f"NURTURE_HOME={settings.home} (warehouse: {settings.warehouse})", flush=True)
    with for_terminal() as progress:
        summary = run_demo(
            settings,
            seed=args.seed,
            leads=args.leads,
            faults=args.faults,
            logical_date=args.logical_date,
            progress=progress,
        )
    print()
    print(summary.render())
    return 0 if summary.mqls > 0 else 1


def cmd_summary(args: argparse.Namespace) -> int:
    from nurture.summary import collect_summary

    print(collect_summary(load_settings()).render())
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from nurture.report import write_report

    result = write_report(load_settings(), targets_path=args.targets, output=args.output)
    print(result.render())
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from nurture.load.sync import run_sync
    from nurture.progress import for_terminal

    if args.since is not None and args.since >= args.until:
        raise ConfigError(
            f"--since {args.since.isoformat()} is not before --until {args.until.isoformat()}: "
            "a backfill window starts before it ends."
        )
    settings = load_settings()
    with for_terminal() as progress:
        summary = run_sync(
            args.source,
            settings,
            until=args.until,
            since=args.since,
            progress=progress,
            quiet=True,
        )
    if args.json:
        print(json.dumps(summary.as_dict(), indent=2, ensure_ascii=False, default=str))
    else:
        print(summary.render())
    return 0


def cmd_gate(args: argparse.Namespace) -> int:
    from nurture.quality.gate import run_gate
    from nurture.warehouse import get_warehouse

    checked = run_gate(get_warehouse(load_settings()), args.prefix)
    if args.json:
        print(json.dumps({"prefix": args.prefix, "passed": True, "expectations": checked}))
        return 0
    print(render_gate(args.prefix, checked))
    return 0


def render_gate(prefix: str, checked: dict[str, int]) -> str:
    """`gate raw_marketo passed: 4 tables, 23 expectations`, then one line per table."""
    total = sum(checked.values())
    lines = [
        f"gate {prefix} passed: {_plural(len(checked), 'table')}, {_plural(total, 'expectation')}"
    ]
    width = max((len(table) for table in checked), default=0)
    lines += [f"  {table:<{width}}  {_plural(n, 'expectation')}" for table, n in checked.items()]
    return "\n".join(lines)


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def cmd_score(args: argparse.Namespace) -> int:
    from nurture.scoring.run import run_scoring

    summary = run_scoring(load_settings(), as_of=args.as_of)
    if args.json:
        print(json.dumps(summary.as_dict(), indent=2, ensure_ascii=False))
    else:
        print(summary.render())
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from nurture.bench.run import PARTS, QUICK, Sizes, report, run_bench

    parts = [p.strip() for p in args.only.split(",")] if args.only else list(PARTS)
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        raise ConfigError(
            f"unknown bench part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}"
        )
    settings = load_settings()
    results = run_bench(parts, QUICK if args.quick else Sizes(), settings, _progress)
    table, path = report(results, settings)
    print(table)
    print(f"report: {path}")
    return 0


def _progress(message: str) -> None:
    print(message, flush=True)


def cmd_files_import(args: argparse.Namespace) -> int:
    from nurture.files.importer import import_drop_folder
    from nurture.files.sources import SOURCES_PATH, load_sources

    sources = load_sources(args.config or SOURCES_PATH)
    print(import_drop_folder(load_settings(), folder=args.path, sources=sources).render())
    return 0


def cmd_airflow_init(args: argparse.Namespace) -> int:
    from nurture.airflow_setup import ensure_pools

    settings = load_settings()
    try:
        name, slots = ensure_pools(settings)
    except Exception as exc:
        if not _metadata_db_not_migrated(exc):
            raise
        raise ConfigError(
            "Airflow's metadata database has no tables yet: run `airflow db migrate` first "
            "(with the same AIRFLOW_HOME / AIRFLOW__DATABASE__SQL_ALCHEMY_CONN), then "
            "`nurture airflow-init`."
        ) from exc
    print(f"pool {name}: {slots} slot{'s' if slots != 1 else ''}")
    return 0


def _metadata_db_not_migrated(exc: BaseException) -> bool:
    """A missing `slot_pool` table: SQLite's "no such table", PostgreSQL's "relation ...
    does not exist", MySQL's "doesn't exist"."""
    text = str(exc).lower()
    return "slot_pool" in text and (
        "no such table" in text or "does not exist" in text or "doesn't exist" in text
    )


def cmd_bi_role(args: argparse.Namespace) -> int:
    import os

    from nurture.transform.bi_access import PASSWORD_ENV, ensure_bi_role

    password = os.environ.get(PASSWORD_ENV, "")
    print(ensure_bi_role(load_settings(), login=args.login, password=password).render())
    return 0


def cmd_bi_pseudonymise(args: argparse.Namespace) -> int:
    from nurture.transform.pseudonyms import pseudonymise

    print(pseudonymise(load_settings()).render())
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from nurture.doctor import run_doctor

    return run_doctor(
        skip_groups=args.skip,
        only=args.only,
        days=args.days,
        timeout=args.timeout,
        as_json=args.json,
        verbose=args.verbose,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nurture", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the whole pipeline once against the sandbox")
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--leads", type=_positive, default=3000)
    demo.add_argument("--faults", choices=FAULT_PROFILES, default="none")
    demo.add_argument(
        "--logical-date",
        type=_timestamp,
        default=None,
        help="default: the day after the sandbox world's last day",
    )
    demo.set_defaults(func=cmd_demo)

    summary = sub.add_parser("summary", help="print what the warehouse holds")
    summary.set_defaults(func=cmd_summary)

    report = sub.add_parser(
        "report",
        help="write the KPI report (HTML) from the marts to $NURTURE_HOME/reports/",
        description="A self-contained HTML page (Japanese, with an English switch) of the "
        "marts' KPIs, targets and what to do next: $NURTURE_HOME/reports/report-<time>.html "
        "and latest.html. See docs/report.md.",
    )
    report.add_argument(
        "--targets",
        type=Path,
        default=None,
        help="KPI targets file (default: include/report/kpi_targets.yaml)",
    )
    report.add_argument(
        "--output", type=Path, default=None, help="write this one file instead of reports/"
    )
    report.set_defaults(func=cmd_report)

    sync = sub.add_parser("sync", help="sync one source into raw_<source>")
    sync.add_argument("source", choices=("marketo", "hubspot", "salesforce"))
    sync.add_argument("--until", type=_timestamp, required=True)
    sync.add_argument("--since", type=_timestamp, default=None, help="backfill window start")
    sync.add_argument("--json", action="store_true", help="one JSON document, for machines")
    sync.set_defaults(func=cmd_sync)

    gate = sub.add_parser("gate", help="run the GX suites for a schema prefix")
    gate.add_argument("prefix", help="e.g. raw_marketo")
    gate.add_argument("--json", action="store_true", help="one JSON document, for machines")
    gate.set_defaults(func=cmd_gate)

    score = sub.add_parser("score", help="score leads and enqueue MQLs")
    score.add_argument("--as-of", type=_timestamp, required=True)
    score.add_argument("--json", action="store_true", help="one JSON document, for machines")
    score.set_defaults(func=cmd_score)

    bench = sub.add_parser("bench", help="measure speed and memory against the goals")
    bench.add_argument("--only", default="", help="comma-separated parts (default: all)")
    bench.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    bench.set_defaults(func=cmd_bench)

    files = sub.add_parser("files", help="CSV files from the drop folder into raw_files")
    files_sub = files.add_subparsers(dest="files_command", required=True)
    files_import = files_sub.add_parser(
        "import", help="import the trade-show lists and business-card exports dropped there"
    )
    files_import.add_argument(
        "--path",
        type=Path,
        default=None,
        help="the drop folder (default: drop_folder in sources.yaml, else $NURTURE_HOME/dropbox)",
    )
    files_import.add_argument(
        "--config", type=Path, default=None, help="default: include/files/sources.yaml"
    )
    files_import.set_defaults(func=cmd_files_import)

    bi = sub.add_parser(
        "bi", help="the bi schema for BI tools: its read-only role and its pseudonyms"
    )
    bi_sub = bi.add_subparsers(dest="bi_command", required=True)
    bi_role = bi_sub.add_parser(
        "role",
        help="create the read-only PostgreSQL role BI reads bi as (NURTURE_BI_ROLE, "
        "default nurture_bi) and grant it bi",
        description="Create NURTURE_BI_ROLE (NOLOGIN unless --login; password from "
        "NURTURE_BI_PASSWORD) and grant it CONNECT, USAGE on schema bi and select on its "
        "views; every later build grants the views it rebuilds. See docs/bi.md.",
    )
    bi_role.add_argument(
        "--login", action="store_true", help="let BI tools log in as the role itself"
    )
    bi_role.set_defaults(func=cmd_bi_role)
    bi_pseudonymise = bi_sub.add_parser(
        "pseudonymise",
        help="bring pseudonyms.lead_keys in line with dim_lead under NURTURE_PSEUDONYM_KEY "
        "(after a key rotation: recompute every pseudonym)",
    )
    bi_pseudonymise.set_defaults(func=cmd_bi_pseudonymise)

    from nurture.doctor import GROUPS, group_list

    doctor = sub.add_parser(
        "doctor", help="check connections, the warehouse, Airflow and the sandbox"
    )
    groups = ", ".join(GROUPS)
    doctor.add_argument("--skip", type=group_list, default=(), help=f"groups to skip: {groups}")
    doctor.add_argument("--only", type=group_list, default=(), help="only these groups")
    doctor.add_argument("--days", type=_positive, default=7, help="quarantine look-back")
    doctor.add_argument("--timeout", type=float, default=10.0, help="seconds per network check")
    doctor.add_argument("--json", action="store_true", help="one JSON document, for machines")
    doctor.set_defaults(func=cmd_doctor)

    airflow_init = sub.add_parser(
        "airflow-init", help="create what the DAGs need in Airflow (run after airflow db migrate)"
    )
    airflow_init.set_defaults(func=cmd_airflow_init)

    from nurture.sandbox.cli import add_parser as add_sandbox_parser

    add_sandbox_parser(sub)

    from nurture.model_cli import add_parser as add_model_parser

    add_model_parser(sub)
    return parser


def _user_errors() -> tuple[type[BaseException], ...]:
    from nurture.connections import ConnectionNotFound
    from nurture.demo import DemoFailed
    from nurture.quality.gate import GateFailed
    from nurture.scoring.rules import RulesError
    from nurture.transform.dbt import DbtFailed

    return (ConfigError, ConnectionNotFound, DemoFailed, GateFailed, RulesError, DbtFailed)


def explain_environment_error(exc: BaseException) -> str | None:
    """One sentence for what goes wrong around the code rather than in it (a warehouse
    down, busy or empty), saying what to do; None for anything else (a bug: traceback)."""
    from nurture.retryable import root_cause

    error = root_cause(exc)
    text = str(error)
    kind = type(error).__name__
    module = type(error).__module__
    first = text.strip().splitlines()[0] if text.strip() else kind
    if "Could not set lock on file" in text:
        path = text.split('"')[1] if text.count('"') >= 2 else "the DuckDB warehouse"
        return (
            f"the DuckDB warehouse {path} is in use by another process; wait for it to "
            "finish (a DAG run, another nurture command) and try again."
        )
    if module.startswith("psycopg") and kind in ("OperationalError", "ConnectionTimeout"):
        from nurture.config import load_settings

        pg = load_settings().postgres
        return (
            f"cannot connect to PostgreSQL at {pg.host}:{pg.port} ({first}); start it, or "
            "set NURTURE_PG_HOST / NURTURE_PG_PORT / NURTURE_PG_USER to where it runs."
        )
    from nurture.connectors.http import ApiError

    if isinstance(error, ApiError):
        return (
            f"an API call failed ({first}); check the connection's host and credentials "
            "(AIRFLOW_CONN_<ID>) and that the service is up."
        )
    if kind in ("CatalogException", "UndefinedTable"):
        return (
            f"the warehouse lacks a table this command reads ({first}); load and build it "
            "first: `nurture demo`, or the syncs and the build_marts DAG."
        )
    return None


class _AfterImport(importlib.abc.MetaPathFinder):
    """Calls `then()` once the module `name` has been imported (a one-shot import hook)."""

    def __init__(self, name: str, then: Callable[[], None]) -> None:
        self.name = name
        self.then = then

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> object:
        if fullname != self.name or self not in sys.meta_path:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        loader = getattr(spec, "loader", None)
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        exec_module, then = loader.exec_module, self.then

        def exec_then(module: object) -> None:
            exec_module(module)
            then()

        loader.exec_module = exec_then
        return spec


class _LogsOffStdout:
    """Importing Airflow (for a connection, a pool) points the root logger at stdout at
    INFO, which would mix its log lines into a command's output and its `--json`. For
    the command's run, those handlers write to stderr at the command's level (Airflow's
    own structlog loggers too); afterwards they are as they were (for callers of `main`
    in a process that goes on, e.g. the tests)."""

    def __init__(self, level: int) -> None:
        self.level = level
        self.hook: _AfterImport | None = None
        self.moved: list[tuple[logging.StreamHandler[Any], Any, int]] = []
        self.factory: Any = None

    def __enter__(self) -> _LogsOffStdout:
        if "airflow" in sys.modules:
            self.take_back()
        else:
            self.hook = _AfterImport("airflow", self.take_back)
            sys.meta_path.insert(0, self.hook)
        return self

    def take_back(self) -> None:
        for handler in logging.getLogger().handlers:
            if type(handler) is logging.StreamHandler and handler.stream in (
                sys.stdout,
                sys.__stdout__,
            ):
                self.moved.append((handler, handler.stream, handler.level))
                handler.setStream(sys.stderr)
                handler.setLevel(max(self.level, handler.level))
        structlog = sys.modules.get("structlog")
        factory = structlog.get_config().get("logger_factory") if structlog else None
        if factory is not None and getattr(factory, "io", False) is None:
            factory.io = sys.stderr
            self.factory = factory

    def __exit__(self, *exc: object) -> None:
        if self.hook is not None and self.hook in sys.meta_path:
            sys.meta_path.remove(self.hook)
        for handler, stream, level in self.moved:
            handler.setStream(stream)
            handler.setLevel(level)
        if self.factory is not None:
            self.factory.io = None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with _LogsOffStdout(level):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:  # the sandbox group reports its own errors
        from nurture.sandbox.cli import run

        return run(args)
    try:
        return func(args)
    except _user_errors() as exc:
        print(f"nurture: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        explained = explain_environment_error(exc)
        if explained is None:
            raise
        print(f"nurture: error: {explained}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nurture: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
