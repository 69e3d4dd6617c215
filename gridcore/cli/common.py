"""What every command shares: the failure exit code, the plain-words error, language, tables."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Sequence

from gridcore.i18n import normalise_language

# The command could not run at all (no such file, an unknown round, a bad setting).
EXIT_FAILURE = 2


class CliError(Exception):
    """A failure already put in plain words for the user."""


def cli_language() -> str:
    """The language of messages: GRIDCORE_LANGUAGE, else the locale (zh_CN → 'zh')."""
    for name in ("GRIDCORE_LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return normalise_language(value)
    return normalise_language(None)


def _width(text: str) -> int:
    """Columns `text` takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """`rows` under `header` in aligned columns separated by ' | '."""
    widths = [max(_width(str(row[i])) for row in (header, *rows)) for i in range(len(header))]
    lines = []
    for row in (header, *rows):
        cells = [
            str(cell) + " " * (width - _width(str(cell)))
            for cell, width in zip(row, widths, strict=True)
        ]
        lines.append(" | ".join(cells).rstrip())
    return "\n".join(lines)
