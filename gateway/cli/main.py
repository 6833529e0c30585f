"""`sne-gateway`: one command per job, each defined in its own module of this package."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

#: The commands, each the name of its module here.
COMMANDS = ("validate", "serve", "report", "init", "simulate", "diff", "pays")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser: every command's, or only the command `only`'s (its module
    alone imported: `validate` in CI starts in two thirds of the time it takes to import them
    all)."""
    parser = argparse.ArgumentParser(
        prog="sne-gateway",
        description="XML/XSD conformance gateway for the SNE interfaces: reverse proxy, "
        "CI contract tests and XSD upgrade reports.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for name in COMMANDS if only is None else (only,):
        importlib.import_module(f"gateway.cli.{name}").register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    # A command named first needs its own parser only; anything else (help, a typo) all.
    only = words[0] if words and words[0] in COMMANDS else None
    arguments = build_parser(only).parse_args(words)
    # Only a command read from this process's own command line may start itself again (serve
    # does, with its memory allocator): a caller passing `argv` keeps its process.
    arguments.restartable = argv is None
    return int(arguments.run(arguments))


if __name__ == "__main__":
    raise SystemExit(main())
