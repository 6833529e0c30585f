"""`sne-gateway`: one command per job, each defined in its own module of this package."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from gateway.cli import diff, init, pays, report, serve, simulate, validate

COMMANDS = (validate, serve, report, init, simulate, diff, pays)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sne-gateway",
        description="XML/XSD conformance gateway for the SNE interfaces: reverse proxy, "
        "CI contract tests and XSD upgrade reports.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    # Only a command read from this process's own command line may start itself again (serve
    # does, with its memory allocator): a caller passing `argv` keeps its process.
    arguments.restartable = argv is None
    return int(arguments.run(arguments))


if __name__ == "__main__":
    raise SystemExit(main())
