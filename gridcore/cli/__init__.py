"""The command line, `python -m gridcore …`: setup, demo worlds, accounts, files, backups."""

from gridcore.cli.commands import build_parser, main

__all__ = ["build_parser", "main"]
