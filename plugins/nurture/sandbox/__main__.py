"""``python -m nurture.sandbox serve|truth|advance ...``: the sandbox without the full CLI."""

from __future__ import annotations

import argparse
import sys

from nurture.sandbox.cli import add_parser, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nurture.sandbox")
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_parser(subparsers, nested=False)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
