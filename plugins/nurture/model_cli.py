"""``nurture model evaluate``: judge a lead-scoring model on a file of the team's own
history (see docs/model.md). The lead wires ``add_parser`` into ``nurture.cli``; the
command sets ``func`` like the other commands there, and raises ``ConfigError`` for user
mistakes, which the CLI prints as one line. ``main(argv)`` runs it on its own."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from nurture.config import ConfigError


def _share(value: str) -> float:
    try:
        number = float(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number, e.g. 0.3") from exc
    if not 0.05 <= number <= 0.5:
        raise argparse.ArgumentTypeError("must be between 0.05 and 0.5 (a share of the rows)")
    return number


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``model evaluate`` to the CLI's sub-parsers; returns the ``model`` parser."""
    model = subparsers.add_parser(
        "model", help="judge a lead-scoring model on your own history (CSV or Excel)"
    )
    sub = model.add_subparsers(dest="model_command", required=True)
    evaluate = sub.add_parser(
        "evaluate",
        help="train a gradient-boosting model and a logistic baseline on a file, report both",
        description="Read a CSV (UTF-8, with or without BOM, or Shift_JIS) or .xlsx file of "
        "past leads, build features from its columns, hold out part of the rows, fit a "
        "gradient-boosting model and a logistic-regression baseline on the rest and "
        "report holdout AUC, Brier score and calibration for both. See docs/model.md.",
    )
    evaluate.add_argument("--file", required=True, help="the .csv or .xlsx file")
    evaluate.add_argument(
        "--label", required=True, help="the outcome column: 1/0, true/false, won/lost, 受注/失注"
    )
    evaluate.add_argument(
        "--exclude",
        nargs="+",
        action="extend",
        default=[],
        metavar="COLUMN",
        help="columns to leave out, e.g. ones known only after the outcome (repeatable)",
    )
    evaluate.add_argument(
        "--split",
        default="random",
        help="random (stratified, default) or time:COLUMN (the latest rows held out)",
    )
    evaluate.add_argument(
        "--holdout", type=_share, default=0.3, help="share of rows held out (default 0.3)"
    )
    evaluate.add_argument("--seed", type=int, default=42, help="seed of the split and models")
    evaluate.add_argument("--sheet", default=None, help=".xlsx: the sheet (default: the first)")
    evaluate.add_argument("--json", action="store_true", help="one JSON document, for machines")
    evaluate.set_defaults(func=cmd_evaluate)
    return model


def cmd_evaluate(args: argparse.Namespace) -> int:
    from nurture.scoring.evaluate import evaluate_file

    evaluation = evaluate_file(
        args.file,
        args.label,
        exclude=args.exclude,
        split=args.split,
        holdout=args.holdout,
        seed=args.seed,
        sheet=args.sheet,
    )
    if args.json:
        print(json.dumps(evaluation.as_dict(), indent=2, ensure_ascii=False))
    else:
        print(evaluation.render())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nurture")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``nurture model ...`` on its own: user mistakes print one line and return 2."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"nurture: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
