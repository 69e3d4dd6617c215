"""Form and download helpers every page shares: client tokens, field errors, safe text, exports,
and the undo of one-tap writes."""

from __future__ import annotations

import html
import re
import time
import uuid
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from typing import Any

import pandas as pd
import streamlit as st

from gridcore.i18n import fmt_int, t
from gridcore.io.briefing import MIME_TYPES as BRIEFING_MIME_TYPES
from gridcore.io.briefing import briefing_bytes
from gridcore.io.briefing import file_name as briefing_file_name
from gridcore.io.tabular import MIME_TYPES, frame_bytes
from gridcore.ui import data


def download_buttons(
    frame: pd.DataFrame | Callable[[], pd.DataFrame], *, name: str, lang: str, key: str
) -> None:
    """CSV and Excel downloads of `frame`, safe against spreadsheet formula injection.

    `frame` may be a function making it, called only when a button is clicked (a long list
    that the page itself does not show)."""
    left, right = st.columns(2)
    for column, fmt, label in (
        (left, "csv", "tpage.rc_export_csv"),
        (right, "xlsx", "tpage.rc_export_xlsx"),
    ):
        column.download_button(
            t(label, lang),
            # Built only when clicked: a live page reruns often and most reruns download nothing.
            data=(
                partial(_made_bytes, frame, fmt)
                if callable(frame)
                else partial(frame_bytes, frame=frame, fmt=fmt)
            ),
            file_name=f"{name}.{fmt}",
            mime=MIME_TYPES[fmt],
            key=f"{key}_{fmt}",
            width="stretch",
            on_click="ignore",
        )


def more_caption(key: str, n: int, lang: str) -> None:
    """The catalogue text `key` saying that `n` more items than the page shows are left out
    (nothing when none are)."""
    if n > 0:
        st.caption(t(key, lang, n=fmt_int(n, lang)))


def _made_bytes(make: Callable[[], pd.DataFrame], fmt: str) -> bytes:
    return frame_bytes(frame=make(), fmt=fmt)


def briefing_buttons(*, lang: str, key: str) -> None:
    """The command meeting briefing as a PDF and as a printable page, made only when clicked.

    Like download_buttons, it offers a file GridCore wrote itself: the briefing holds counts
    and area names only (no personal data), and the page escapes every text it prints.
    """
    left, right = st.columns(2)
    day = data.today().isoformat()
    for column, fmt, label in (
        (left, "pdf", "brief.download_pdf"),
        (right, "html", "brief.download_html"),
    ):
        column.download_button(
            t(label, lang),
            # Made when clicked: a briefing takes a second or two, and most reruns make none.
            data=partial(_briefing, lang=lang, fmt=fmt),
            file_name=briefing_file_name(day, fmt),
            mime=BRIEFING_MIME_TYPES[fmt],
            key=f"{key}_{fmt}",
            help=t("brief.download_help", lang),
            width="stretch",
            on_click="ignore",
        )


def _briefing(*, lang: str, fmt: str) -> bytes:
    with data.session() as session:
        return briefing_bytes(session=session, lang=lang, fmt=fmt)


def data_table(
    frame: pd.DataFrame, *, name: str, lang: str, key: str, **dataframe_options: Any
) -> None:
    """A table that may hold residents' or users' text, with GridCore's safe downloads below.

    Streamlit's own table download and copy are off for the whole app
    (`client.disableDataExport` in .streamlit/config.toml): they would write a cell that
    starts with `=` as it is, and a spreadsheet would run it as a formula. Cells are shown
    as plain text by st.dataframe (never as Markdown).
    """
    dataframe_options.setdefault("hide_index", True)
    dataframe_options.setdefault("width", "stretch")
    st.dataframe(frame, key=f"{key}_table", **dataframe_options)
    if not frame.empty:
        download_buttons(frame, name=name, lang=lang, key=key)


def markdown_text(value: Any) -> str:
    """`value` as literal text inside a Markdown string (labels, st.markdown, st.success …).

    Every Markdown character is escaped, so a name like `![t](http://host/x.png)` or
    `**bold**` shows as typed: no image is fetched, no link made, nothing emphasised.
    Prefer st.text or a table; use this where user text must sit in a label or a sentence.
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\g<0>", cell_text(value)).replace("\n", " ")


# How far from today a day read from the URL may lie: about the date pickers' own window
# (Streamlit's st.date_input offers ten years either side), and far from the calendar's ends.
URL_DAY_WINDOW = timedelta(days=3652)
# The longest id a URL may carry: 18 digits always fit a 64-bit database column.
URL_ID_DIGITS = 18


def url_id(raw: str | None) -> int | None:
    """A row id from the URL (?depot=7), or None: ASCII digits only, within 64 bits.

    str.isdigit() also says yes to '²' and '١٢' (int() refuses the first), and a number of
    thirty digits overflows the database driver: neither reaches a query.
    """
    if not raw or len(raw) > URL_ID_DIGITS or not (raw.isascii() and raw.isdigit()):
        return None
    return int(raw)


def url_day(raw: str | None, today: date) -> date | None:
    """A YYYY-MM-DD day from the URL within ten years of `today`, or None.

    Year 1 or 9999 would overflow the time-zone arithmetic, and a period of thousands of
    years would make a page count every day of it.
    """
    try:
        day = date.fromisoformat(raw) if raw else None
    except ValueError:
        return None
    if day is None or abs(day - today) > URL_DAY_WINDOW:
        return None
    return day


# CommonMark lets any ASCII punctuation be escaped; these are the ones Streamlit's Markdown
# (GitHub-flavoured, with :emoji:, :color[…] and $math$) gives a meaning to, and < for HTML.
_MARKDOWN_SPECIAL = re.compile(r"[\\`*_{}\[\]()<>#+\-.!|~$:=&]")


def form_token(key: str) -> str:
    """The client token of the form `key`, kept until `renew_token`: a double click writes once."""
    name = f"_token_{key}"
    if name not in st.session_state:
        st.session_state[name] = uuid.uuid4().hex
    return str(st.session_state[name])


def renew_token(key: str) -> None:
    """A fresh token for the next submission of the form `key` (after a success)."""
    st.session_state[f"_token_{key}"] = uuid.uuid4().hex


def error_text(errors: Mapping[str, str], field: str, lang: str) -> str | None:
    """The message for `field` (or any sub-field such as 'sites.0.name'), in plain words."""
    found = [t(message, lang) for name, message in errors.items() if name == field]
    found += [t(message, lang) for name, message in errors.items() if name.startswith(field + ".")]
    return " ".join(dict.fromkeys(found)) or None


def show_field_error(slot: Any, errors: Mapping[str, str], field: str, lang: str) -> None:
    """Write `field`'s message into `slot` (an st.empty next to the field), if it has one."""
    message = error_text(errors, field, lang)
    if message:
        slot.error(message)


def other_errors(errors: Mapping[str, str], fields: tuple[str, ...]) -> dict[str, str]:
    """Errors on fields the form does not show (shown at the top of the form)."""
    return {
        name: message
        for name, message in errors.items()
        if not any(name == f or name.startswith(f + ".") for f in fields)
    }


def html_text(value: Any) -> str:
    """`value` as text safe inside st.html."""
    return html.escape(cell_text(value))


def shown_table(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` for st.dataframe: a missing value reads '—', never 'None' or 'NaN'."""
    out = frame.copy()
    for column in out.columns:
        if out[column].isna().any():
            # One type per column: the column becomes text, its missing cells a dash.
            out[column] = [("—" if _missing(v) else _cell(v)) for v in out[column].tolist()]
    return out


def _cell(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _missing(value: Any) -> bool:
    return (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float) and value != value)
    )


def cell_text(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def each_once(series: pd.Series, show: Callable[[Any], str]) -> pd.Series:
    """`series` with each value shown by `show`, called once per distinct value (a board of
    20,000 contacts holds a few hundred dates, 9,000 workers a dozen roles)."""
    shown: dict[Any, str] = {}

    def one(value: Any) -> str:
        try:
            return shown[value]
        except KeyError:
            shown[value] = text = show(value)
            return text
        except TypeError:  # not hashable
            return show(value)

    return series.map(one)


# --------------------------------------------------------------------------- undo

# How long a one-tap write can be undone (the house rule: at least a minute).
UNDO_SECONDS = 90


@dataclass(frozen=True)
class UndoOffer:
    """A one-tap write that can still be taken back: what it did, and how to undo it.

    `undo(client_token)` calls the service that reverses the write (through the write path,
    so it is audited) and returns whether anything was undone.
    """

    message: str
    undo: Callable[[str], bool]
    done_message: str
    until: float
    token: str = field(default_factory=lambda: uuid.uuid4().hex)


def offer_undo(
    key: str,
    *,
    message: str,
    undo: Callable[[str], bool],
    done_message: str,
    seconds: float = UNDO_SECONDS,
    state: MutableMapping[str, Any] | None = None,
    now: float | None = None,
) -> None:
    """After a one-tap write: remember what it did and how to undo it, for `seconds`.

    The page then calls `show_undo(key, lang)` where the message belongs (once per run).
    """
    store = st.session_state if state is None else state
    moment = time.monotonic() if now is None else now
    store[f"_undo_{key}"] = UndoOffer(
        message=message, undo=undo, done_message=done_message, until=moment + seconds
    )


def take_undo(
    key: str, *, state: MutableMapping[str, Any] | None = None, now: float | None = None
) -> UndoOffer | None:
    """The live offer of `key`, removed so that it is used once (None when gone or expired)."""
    store = st.session_state if state is None else state
    offer = store.pop(f"_undo_{key}", None)
    moment = time.monotonic() if now is None else now
    if not isinstance(offer, UndoOffer) or moment > offer.until:
        return None
    return offer


def run_undo(
    key: str, *, state: MutableMapping[str, Any] | None = None, now: float | None = None
) -> str | None:
    """Undo the offer of `key` once: the message to show, or None when there was nothing to undo
    (a second tap, an expired offer, or a write already undone elsewhere)."""
    offer = take_undo(key, state=state, now=now)
    if offer is None:
        return None
    return offer.done_message if offer.undo(offer.token) else None


def show_undo(key: str, lang: str) -> None:
    """What the last one-tap write did, with an Undo button while it can be undone."""
    done = st.session_state.pop(f"_undone_{key}", None)
    if done:
        st.info(done)
    offer = st.session_state.get(f"_undo_{key}")
    if not isinstance(offer, UndoOffer):
        return
    if time.monotonic() > offer.until:
        st.session_state.pop(f"_undo_{key}", None)
        return
    text_col, button_col = st.columns([3, 1], vertical_alignment="center")
    text_col.success(offer.message)
    button_col.button(
        t("undo.button", lang),
        key=f"_undo_button_{key}_{offer.token}",
        on_click=_undo_clicked,
        args=(key,),
        width="stretch",
    )


def _undo_clicked(key: str) -> None:
    message = run_undo(key)
    if message:
        st.session_state[f"_undone_{key}"] = message
        data.invalidate()
