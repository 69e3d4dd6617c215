"""What every command shares: the exit code of a failure, the plain-words error, the language."""

from __future__ import annotations

import os

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
