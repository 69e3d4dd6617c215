"""What an import found: one problem per bad cell, counts, and whether anything was written."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from gridcore.i18n import fmt_int, t

PROBLEM_COLUMNS: tuple[str, ...] = ("row", "column", "value", "problem", "params")


class ImportConflict(Exception):
    """The database changed while a file was imported (the same rows were written meanwhile)."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: the spreadsheet row (the header is row 1), the column,
    the cell's text, and an i18n key with its parameters."""

    row: int
    column: str
    value: str
    key: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ImportReport:
    """The outcome of checking (and perhaps writing) one file.

    `created`, `updated` and `unchanged` count the good rows — what was written, or on a
    dry run or a refused import, what would have been.
    """

    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    written: bool = False
    dry_run: bool = False
    # Headers of columns the kind does not read (a misspelt optional column ends up here).
    ignored_columns: list[str] = field(default_factory=list)
    # What a kind tells beside the counts (i18n key, params): repeats stored once, names kept aside.
    notes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the file has no problem at all."""
        return not self.problems

    @property
    def bad_rows(self) -> int:
        """Data rows with at least one problem (file-level problems count no row)."""
        return len({p.row for p in self.problems if p.row > 1})

    def frame(self) -> pd.DataFrame:
        """The problems as a table: row, column, value, problem (i18n key), params."""
        return problems_frame(self.problems)


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    """Problems as a DataFrame in file order (row, then column as found)."""
    ordered = sorted(problems, key=lambda p: p.row)
    return pd.DataFrame(
        {
            "row": pd.Series([p.row for p in ordered], dtype="int64"),
            "column": pd.Series([p.column for p in ordered], dtype="object"),
            "value": pd.Series([p.value for p in ordered], dtype="object"),
            "problem": pd.Series([p.key for p in ordered], dtype="object"),
            "params": pd.Series([p.params for p in ordered], dtype="object"),
        },
        columns=list(PROBLEM_COLUMNS),
    )


def describe(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A problems frame for people: row, column, value and the problem in words."""
    messages = [
        t(key, lang, **params)
        for key, params in zip(frame["problem"], frame["params"], strict=True)
    ]
    return pd.DataFrame(
        {
            t("io.col.row", lang): frame["row"].to_list(),
            t("io.col.column", lang): frame["column"].to_list(),
            t("io.col.value", lang): frame["value"].to_list(),
            t("io.col.problem", lang): messages,
        }
    )


def summary(report: ImportReport, lang: str) -> str:
    """One line of counts, then what happened to the file."""
    counts = t(
        "io.summary.counts",
        lang,
        rows=fmt_int(report.rows),
        created=fmt_int(report.created),
        updated=fmt_int(report.updated),
        unchanged=fmt_int(report.unchanged),
        bad=fmt_int(report.bad_rows),
        problems=fmt_int(len(report.problems)),
    )
    return f"{counts} {t(outcome_key(report), lang)}"


def outcome_key(report: ImportReport) -> str:
    """The i18n key of what happened: written, checked only, or refused because of problems."""
    if report.dry_run:
        return "io.outcome.dry_run_clean" if report.ok else "io.outcome.dry_run_problems"
    if report.written:
        return "io.outcome.written" if report.ok else "io.outcome.written_good_rows"
    return "io.outcome.nothing_written"


def ignored_line(report: ImportReport, lang: str) -> str | None:
    """A line naming the file's columns that were not read, or None when every one was."""
    if not report.ignored_columns:
        return None
    return t("io.ignored_columns", lang, columns=", ".join(report.ignored_columns))


def note_lines(report: ImportReport, lang: str) -> list[str]:
    """The kind's notes, one line each."""
    return [t(key, lang, **_formatted(params, lang)) for key, params in report.notes]


def _formatted(params: dict[str, Any], lang: str) -> dict[str, Any]:
    return {k: fmt_int(v, lang) if isinstance(v, int) else v for k, v in params.items()}


def problem_lines(report: ImportReport, lang: str, *, limit: int) -> list[str]:
    """The first `limit` problems, one line each: 'row 5, sampled_at "…": the problem'."""
    lines = []
    for p in sorted(report.problems, key=lambda p: p.row)[:limit]:
        lines.append(
            t(
                "io.problem_line",
                lang,
                row=p.row,
                column=p.column or "—",
                value=p.value,
                problem=t(p.key, lang, **p.params),
            )
        )
    hidden = len(report.problems) - len(lines)
    if hidden > 0:
        lines.append(t("io.more_problems", lang, count=fmt_int(hidden)))
    return lines
