"""Data entry & import: upload a CSV or Excel file, see every row's problem, then import it."""

from __future__ import annotations

from typing import Any

import streamlit as st
from sqlmodel import Session

from gridcore.access import Actor, PermissionDenied
from gridcore.i18n import fmt_int, t
from gridcore.io import testing as test_results
from gridcore.io.exchange import (
    HEADER_LANGUAGES,
    KINDS,
    columns_of,
    exchange_of,
    export_file,
    export_file_name,
    import_table,
    read_file,
)
from gridcore.io.report import ImportConflict, ImportReport, describe, note_lines, summary
from gridcore.io.tabular import FORMATS, MIME_TYPES, TableError, frame_bytes
from gridcore.models import UserRole
from gridcore.queries.testing import round_choices
from gridcore.ui import data, forms, session

PREVIEW_KEY = "io_preview"


def page() -> None:
    actor = session.require_actor()
    lang = session.language()
    st.title(t("page.data_entry", lang))
    st.caption(t("io.page.intro", lang))
    if not actor.can_write or not actor.sees_personal_data:
        st.info(t("io.page.viewer", lang))
        return
    importing, exporting = st.tabs([t("io.page.import", lang), t("io.page.export", lang)])
    with importing:
        _import(actor, lang)
    with exporting:
        _export(actor, lang)


def _kind(lang: str, key: str) -> str:
    kind: str = st.radio(
        t("io.page.kind", lang),
        KINDS,
        format_func=lambda k: t(f"io.page.kind.{k}", lang),
        horizontal=True,
        key=key,
    )
    return kind


def _round(lang: str, key: str, none_label: str) -> int | None:
    choices = data.cached(round_choices, lang=lang)
    names = dict(choices)
    picked: int | None = st.selectbox(
        t("io.page.round", lang),
        [None, *names],
        format_func=lambda i: none_label if i is None else names[i],
        key=key,
    )
    return picked


# --------------------------------------------------------------------------- import


def _import(actor: Actor, lang: str) -> None:
    kind = _kind(lang, "io_import_kind")
    round_id = None
    if kind == test_results.KIND:
        round_id = _round(lang, "io_import_round", t("io.page.round_from_file", lang))
    unmatched = None
    if "unmatched" in exchange_of(kind).options:
        keep = st.checkbox(t("io.page.keep_unmatched", lang), key="io_import_unmatched")
        unmatched = "keep" if keep else "report"
    # Each column with its Chinese name: files with either header are read.
    columns = ", ".join(f"{c.name} ({c.zh})" for c in columns_of(kind))
    st.caption(t("io.page.columns_help", lang, columns=columns))
    st.caption(t("io.page.rule", lang))
    st.caption(t("io.page.areas_cli", lang))
    upload = st.file_uploader(t("io.page.upload", lang), type=list(FORMATS), key="io_upload")
    if upload is None:
        st.session_state.pop(PREVIEW_KEY, None)
        return
    key = (upload.file_id, kind, round_id, unmatched, actor.username)
    stored = st.session_state.get(PREVIEW_KEY)
    if stored is None or stored[0] != key:
        with st.spinner(t("io.page.checking", lang)):
            report = _run(
                actor,
                lang,
                kind=kind,
                upload=upload,
                round_id=round_id,
                unmatched=unmatched,
                dry_run=True,
            )
        if report is None:
            return
        st.session_state[PREVIEW_KEY] = (key, report)
    else:
        report = stored[1]
    _show(report, lang)
    if not report.ok:
        st.error(t("io.page.fix_first", lang))
        return
    changes = report.created + report.updated
    if changes == 0:
        st.info(t("io.page.nothing_to_do", lang))
        return
    label = t("io.page.import_button", lang, count=fmt_int(changes))
    if st.button(label, type="primary", key="io_import_go"):
        with st.spinner(t("io.page.importing", lang)):
            final = _run(
                actor,
                lang,
                kind=kind,
                upload=upload,
                round_id=round_id,
                unmatched=unmatched,
                dry_run=False,
            )
        st.session_state.pop(PREVIEW_KEY, None)
        if final is None:
            return
        data.invalidate()
        if final.written:
            st.success(
                t(
                    "io.page.done",
                    lang,
                    created=fmt_int(final.created),
                    updated=fmt_int(final.updated),
                )
            )
        else:  # the database changed since the preview: show what is wrong now
            _show(final, lang)


def _run(
    actor: Actor,
    lang: str,
    *,
    kind: str,
    upload: Any,
    round_id: int | None,
    unmatched: str | None,
    dry_run: bool,
) -> ImportReport | None:
    """Read the upload and check (or import) it; None after showing why it could not run."""
    try:
        table = read_file(data=upload.getvalue(), name=upload.name)
        with data.session() as s:
            return import_table(
                session=s,
                kind=kind,
                table=table,
                actor=actor,
                round_id=round_id,
                unmatched=unmatched,
                dry_run=dry_run,
                source=upload.name,
            )
    except TableError as exc:
        st.error(t(exc.key, lang, **{k: forms.markdown_text(v) for k, v in exc.params.items()}))
    except ImportConflict as exc:
        st.error(t(str(exc), lang))
    except PermissionDenied as exc:
        st.error(t("io.page.permission", lang, detail=forms.markdown_text(exc)))
    return None


def _show(report: ImportReport, lang: str) -> None:
    """Counts, the summary sentence, and every problem row by row."""
    figures = (
        ("io.page.rows", report.rows),
        ("io.page.new", report.created),
        ("io.page.changed", report.updated),
        ("io.page.unchanged", report.unchanged),
        ("io.page.bad_rows", report.bad_rows),
    )
    for column, (key, value) in zip(st.columns(len(figures)), figures, strict=True):
        column.metric(t(key, lang), fmt_int(value))
    st.caption(summary(report, lang))
    for line in note_lines(report, lang):
        st.text(line)  # may quote the file's own words (an area name): never as Markdown
    if report.ignored_columns:
        st.warning(t("io.page.ignored_columns", lang))
        st.text(", ".join(report.ignored_columns))  # the file's own words: never as Markdown
    if report.ok:
        return
    st.subheader(t("io.page.problems", lang))
    problems = describe(report.frame(), lang)
    st.dataframe(problems, hide_index=True, width="stretch")
    st.download_button(
        t("io.page.problems_download", lang),
        data=frame_bytes(frame=problems, fmt="csv"),
        file_name="problems.csv",
        mime=MIME_TYPES["csv"],
        on_click="ignore",
        key="io_problems_download",
    )


# --------------------------------------------------------------------------- export


def _export(actor: Actor, lang: str) -> None:
    kind = _kind(lang, "io_export_kind")
    round_id = None
    if kind == test_results.KIND:
        round_id = _round(lang, "io_export_round", t("io.page.all_rounds", lang))
    fmt: str = st.radio(
        t("io.page.format", lang),
        FORMATS,
        format_func=lambda f: t(f"io.page.format.{f}", lang),
        horizontal=True,
        key="io_export_format",
    )
    # The header in the view's language: English, or each column's Chinese name (both import).
    headers: str = st.radio(
        t("io.page.headers", lang),
        HEADER_LANGUAGES,
        index=HEADER_LANGUAGES.index(lang) if lang in HEADER_LANGUAGES else 0,
        format_func=lambda h: t(f"io.page.headers.{h}", lang),
        horizontal=True,
        key="io_export_headers",
    )
    if actor.role == UserRole.grid_worker:
        st.caption(t("io.page.export_scope_worker", lang))
    name = export_file_name(kind=kind, fmt=fmt, day=data.today(), round_id=round_id)
    engine = data.engine()

    def build() -> bytes:
        # Runs when the button is pressed, on its own thread: it opens its own session.
        with Session(engine) as s:
            return export_file(
                session=s, kind=kind, fmt=fmt, actor=actor, round_id=round_id, headers=headers
            )

    st.download_button(
        t("io.page.download", lang, name=name),
        data=build,
        file_name=name,
        mime=MIME_TYPES[fmt],
        on_click="ignore",
        key="io_export_download",
    )


page()
