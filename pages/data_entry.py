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
    open_file,
)
from gridcore.io.report import ImportConflict, ImportReport, describe, note_lines, summary
from gridcore.io.tabular import FORMATS, MIME_TYPES, TableError, frame_bytes
from gridcore.models import UserRole
from gridcore.queries.testing import round_choices
from gridcore.ui import data, forms, session
from gridcore.ui.data_entry import (
    CHANGED_PAGE,
    CHECKED,
    FAILED,
    IMPORTED,
    STATE_KEY,
    ImportState,
)


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
        st.session_state.pop(STATE_KEY, None)
        return
    key = (upload.file_id, kind, round_id, unmatched, actor.username)
    state: ImportState | None = st.session_state.get(STATE_KEY)
    if state is None or state.key != key:
        with st.spinner(t("io.page.checking", lang)):
            report, error = _run(
                actor, kind=kind, upload=upload, round_id=round_id, unmatched=unmatched,
                dry_run=True,
            )  # fmt: skip
        state = ImportState(key, FAILED if report is None else CHECKED, report, error)
        st.session_state[STATE_KEY] = state
    if state.phase == CHECKED and state.report is not None:
        _checked(state.report, lang, actor, kind, upload, round_id, unmatched)
    elif state.phase == IMPORTED and state.report is not None:
        _imported(state.report, lang, kind, round_id)
    else:
        _failed(state, lang)


def _checked(
    report: ImportReport,
    lang: str,
    actor: Actor,
    kind: str,
    upload: Any,
    round_id: int | None,
    unmatched: str | None,
) -> None:
    """The check's result, and the import button when the file can be imported."""
    _show(report, lang)
    if not report.ok:
        st.error(t("io.page.fix_first", lang))
        return
    changes = report.created + report.updated
    if changes == 0:
        st.info(t("io.page.nothing_to_do", lang))
        return
    label = t("io.page.import_button", lang, count=fmt_int(changes))
    if not st.button(label, type="primary", key="io_import_go"):
        return
    with st.spinner(t("io.page.importing", lang)):
        final, error = _run(
            actor, kind=kind, upload=upload, round_id=round_id, unmatched=unmatched,
            dry_run=False,
        )  # fmt: skip
    if final is not None and final.written:
        data.invalidate()
        phase = IMPORTED
    else:  # refused, or the database changed since the check: say what is wrong now
        phase = FAILED
    st.session_state[STATE_KEY] = ImportState(st.session_state[STATE_KEY].key, phase, final, error)
    st.rerun()


def _imported(report: ImportReport, lang: str, kind: str, round_id: int | None) -> None:
    """What the import wrote, and a link to the page that shows it."""
    st.success(
        t(
            "io.page.done",
            lang,
            written=fmt_int(report.created + report.updated),
            created=fmt_int(report.created),
            updated=fmt_int(report.updated),
            unchanged=fmt_int(report.unchanged),
        )
    )
    path, title = CHANGED_PAGE.get(kind, ("pages/overview.py", "page.overview"))
    params = {"round": str(round_id)} if path == "pages/testing.py" and round_id else None
    st.page_link(path, label=t("io.page.see_changes", lang, page=t(title, lang)),
                 query_params=params)  # fmt: skip


def _failed(state: ImportState, lang: str) -> None:
    """Why the file was not imported: the error, or the problems found while importing."""
    st.error(t("io.page.failed", lang))
    if state.error is not None:
        st.error(state.error)
    if state.report is not None:
        _show(state.report, lang)
    if st.button(t("io.page.check_again", lang), key="io_check_again"):
        st.session_state.pop(STATE_KEY, None)
        st.rerun()


def _run(
    actor: Actor,
    *,
    kind: str,
    upload: Any,
    round_id: int | None,
    unmatched: str | None,
    dry_run: bool,
) -> tuple[ImportReport | None, str | None]:
    """Read the upload and check (or import) it: the report, or None and why it could not
    run (text in the reader's language, the file's own words escaped)."""
    lang = session.language()
    try:
        # Read as it is checked: the upload's bytes are held, never a copy of every row.
        table = open_file(source=upload.getvalue(), name=upload.name)
        with data.session() as s:
            report = import_table(
                session=s,
                kind=kind,
                table=table,
                actor=actor,
                round_id=round_id,
                unmatched=unmatched,
                dry_run=dry_run,
                source=upload.name,
            )
        return report, None
    except TableError as exc:
        params = {k: forms.markdown_text(v) for k, v in exc.params.items()}
        return None, t(exc.key, lang, **params)
    except ImportConflict as exc:
        return None, t(str(exc), lang)
    except PermissionDenied as exc:
        return None, t("io.page.permission", lang, detail=forms.markdown_text(exc))


def _show(report: ImportReport, lang: str) -> None:
    """Counts, the summary sentence, and every problem row by row."""
    figures = (
        ("io.page.rows", report.rows),
        ("io.page.new", report.created),
        ("io.page.changed", report.updated),
        ("io.page.unchanged", report.unchanged),
        ("io.page.bad_rows", report.bad_rows),
        ("io.page.problem_count", len(report.problems)),
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
