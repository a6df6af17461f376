"""``nurture sandbox serve|truth|export|advance|build``. The lead wires ``add_parser`` into
``nurture.cli``; every sub-command sets ``args.handler`` (call ``run(args)``)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import httpx

from nurture.sandbox.faults import PROFILES, FaultError
from nurture.sandbox.limits import QUOTA_FLAGS, Quotas, quotas_from
from nurture.sandbox.wallclock import CLOCKS
from nurture.sandbox.world import WorldError


def add_parser(subparsers: Any, nested: bool = True) -> argparse.ArgumentParser | None:
    """Add the sandbox commands: under a ``sandbox`` group, or directly when not nested."""
    group = subparsers
    parent = None
    if nested:
        parent = subparsers.add_parser(
            "sandbox", help="simulated Marketo/HubSpot/Salesforce APIs for demos and tests"
        )
        group = parent.add_subparsers(dest="sandbox_command", required=True)

    serve = group.add_parser("serve", help="serve the sandbox APIs over HTTP")
    _world_args(serve)
    serve.add_argument(
        "--faults", default="none", choices=sorted(PROFILES), help="fault profile (default: none)"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument(
        "--token", default=None, help="accept only this token (default: any non-empty token)"
    )
    serve.add_argument(
        "--no-rate-limits",
        dest="rate_limits",
        action="store_false",
        help="turn off the HubSpot and Marketo rate limits and daily quotas",
    )
    for flag, (name, _) in QUOTA_FLAGS.items():
        serve.add_argument(
            flag,
            dest=name,
            type=float,
            default=None,
            help=f"quota (default {getattr(Quotas(), name):,})"
            if "mb" not in flag
            else "Marketo bulk export quota in MB a day (default 500)",
        )
    serve.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS with a self-signed certificate made at start (for simple-salesforce)",
    )
    serve.add_argument(
        "--tls-dir",
        default=None,
        help="where --tls writes sandbox-cert.pem and sandbox-key.pem (default: a run folder)",
    )
    serve.add_argument(
        "--clock",
        default="fixed",
        choices=CLOCKS,
        help="fixed: today is 2026-09-30 plus the days advanced by hand (default); wall: "
        "catch the world up to today's UTC date, then advance a day at each midnight UTC",
    )
    serve.set_defaults(handler=_serve)

    truth = group.add_parser("truth", help="write the ground truth as Parquet files")
    _world_args(truth)
    truth.add_argument("--out", required=True, help="directory for the Parquet files")
    truth.set_defaults(handler=_truth)

    export = group.add_parser(
        "export",
        help="write the world's lead, outcome and activity lists as a team keeps them outside "
        "the MA/CRM (CSV or Excel), and a model-evaluation file",
        description="Write leads, outcomes, activities and model files (see "
        "nurture.sandbox.exports and docs/model.md) for the world of --seed and --leads.",
    )
    _world_args(export)
    export.add_argument("--out", required=True, help="directory for the files")
    export.add_argument(
        "--format", default="csv", choices=("csv", "xlsx"), help="csv (UTF-8 with BOM) or xlsx"
    )
    export.add_argument(
        "--dates",
        default="iso",
        choices=("iso", "dmy"),
        help="iso: 2026-03-01 10:23 (default); dmy: day first, 01-03-2026 10:23",
    )
    export.set_defaults(handler=_export)

    build = group.add_parser("build", help="build (or find) the cached world and print counts")
    _world_args(build)
    build.set_defaults(handler=_build)

    advance = group.add_parser("advance", help="move a running sandbox forward in time")
    advance.add_argument("--days", type=int, default=1)
    advance.add_argument(
        "--url", default="http://127.0.0.1:8765", help="base URL of the running sandbox"
    )
    advance.set_defaults(handler=_advance)
    return parent


def _world_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--leads", type=int, required=True)


def run(args: argparse.Namespace) -> int:
    """Run the chosen command; user mistakes print one line and return 2."""
    try:
        return int(args.handler(args) or 0)
    except (WorldError, FaultError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except httpx.HTTPError as exc:
        print(f"error: cannot reach the sandbox ({exc}); is it running?", file=sys.stderr)
        return 2


def _serve(args: argparse.Namespace) -> int:
    from nurture.sandbox.server import serve
    from nurture.sandbox.world import check_spec

    check_spec(args.seed, args.leads)
    if not 0 <= args.port <= 65535:
        raise WorldError(f"--port must be between 0 and 65535, not {args.port}.")
    print(
        f"sandbox: seed {args.seed}, {args.leads:,} leads, faults {args.faults}, "
        f"clock {args.clock}, {'https' if args.tls else 'http'}://{args.host}:{args.port}",
        file=sys.stderr,
    )
    try:
        serve(
            args.seed,
            args.leads,
            args.faults,
            args.host,
            args.port,
            args.token,
            rate_limits=args.rate_limits,
            log_level="warning",
            tls=args.tls,
            tls_dir=args.tls_dir,
            quotas=quotas_from({name: getattr(args, name) for name, _ in QUOTA_FLAGS.values()}),
            clock_mode=args.clock,
        )
    except OSError as exc:
        raise WorldError(f"cannot serve on {args.host}:{args.port}: {exc.strerror}.") from exc
    return 0


def _truth(args: argparse.Namespace) -> int:
    from nurture.sandbox.world import ensure_world, write_truth

    written = write_truth(ensure_world(args.seed, args.leads), args.out)
    for name, path in written.items():
        print(f"{name}\t{path}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from nurture.sandbox.exports import write_exports
    from nurture.sandbox.world import check_spec, ensure_world

    check_spec(args.seed, args.leads)
    written = write_exports(
        ensure_world(args.seed, args.leads), args.out, fmt=args.format, dates=args.dates
    )
    for item in written:
        print(f"{item.name}\t{item.rows}\t{item.path}")
    return 0


def _build(args: argparse.Namespace) -> int:
    from nurture.sandbox.world import ensure_world, world_counts

    path = ensure_world(args.seed, args.leads)
    print(json.dumps({"path": str(path), **world_counts(path)}, indent=2))
    return 0


def _advance(args: argparse.Namespace) -> int:
    response = httpx.post(
        f"{args.url.rstrip('/')}/sandbox/advance", params={"days": args.days}, timeout=600
    )
    if response.status_code != 200:
        raise WorldError(response.json().get("error", response.text))
    print(json.dumps(response.json(), indent=2))
    return 0
