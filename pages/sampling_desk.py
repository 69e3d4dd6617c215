"""Sampling desk: find a resident, tap once, sampled. Made for one hand on a phone.

The site (or door to door) and the pooled tube are chosen once and kept for the session;
a resident already sampled in the round says so instead of being recorded twice.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pandas as pd
import streamlit as st

from gridcore.access import Actor, PermissionDenied
from gridcore.i18n import display_name, display_names, fmt_int, t
from gridcore.queries import areas
from gridcore.queries import testing as tq
from gridcore.services import testing as ts
from gridcore.services.base import ValidationFailed, WriteBusy, retrying
from gridcore.ui import data, forms, session, views
from gridcore.ui import testing as tv
from gridcore.ui.forms import markdown_text as md

DOOR = "door"
MIN_CHARS = 2


def page() -> None:
    actor = session.require_actor()
    lang = session.language()
    st.html(tv.TESTING_CSS)
    st.title(t("page.sampling_desk", lang))
    if not actor.can_write:
        st.info(t("tpage.not_allowed", lang))
        return
    label = _setup_label(lang)
    with st.expander(label or t("tpage.desk_setup", lang), expanded=label is None):
        round_id = tv.pick_round(lang, key="desk_round", open_only=True)
        if round_id is None:
            st.info(t("tpage.no_open_round", lang))
            return
        st.session_state["desk_round_kept"] = round_id
        sites = data.cached(tq.round_sites, round_id=round_id)
        place = _pick_place(lang, sites, actor)
        tube = _pick_tube(lang)
    _confirmation(lang, sites, place, tube)
    query = st.text_input(
        t("tpage.desk_search", lang),
        key="desk_query",
        placeholder=t("tpage.desk_search_placeholder", lang),
    )
    _results(lang, actor, round_id, place, tube, query.strip())


def _setup_label(lang: str) -> str | None:
    """Where this desk samples and into which tube, once chosen (None before that)."""
    round_id = st.session_state.get("desk_round_kept")
    place = st.session_state.get("desk_place")
    if round_id is None or place is None:
        return None
    if place == DOOR:
        where = t("tpage.desk_door", lang)
    else:
        sites = data.cached(tq.round_sites, round_id=int(round_id))
        chosen = sites[sites["site_id"] == int(place)]
        if chosen.empty:
            return None
        where = display_names(chosen, lang)[0]
    tube = st.session_state.get("desk_tube") or "—"
    return t("tpage.desk_setup_done", lang, place=where, tube=tube)


def _pick_place(lang: str, sites: pd.DataFrame, actor: Actor) -> str:
    """'door' or a site id as text, the sites of the worker's own community first; the choice
    is kept for the session (also across pages)."""
    names = {str(int(r.site_id)): display_name(r, lang) for r in views.table_rows(sites)}
    options = [*tv.own_sites_first(sites, data.cached(areas.grids), actor), DOOR]
    kept = st.session_state.get("desk_place")
    if st.session_state.get("desk_place_w") not in options:
        st.session_state["desk_place_w"] = kept if kept in options else options[0]
    place = str(
        st.selectbox(
            t("tpage.desk_place", lang),
            options,
            format_func=lambda p: t("tpage.desk_door", lang) if p == DOOR else names[p],
            key="desk_place_w",
        )
    )
    st.session_state["desk_place"] = place
    return place


def _pick_tube(lang: str) -> str:
    """The pooled tube the next samples go into ('' for none); kept for the session."""
    if "desk_tube_w" not in st.session_state:
        st.session_state["desk_tube_w"] = st.session_state.get("desk_tube", "")
    tube = st.text_input(
        t("tpage.desk_tube", lang), key="desk_tube_w", help=t("tpage.desk_tube_help", lang)
    ).strip()
    st.session_state["desk_tube"] = tube
    return tube


def _confirmation(lang: str, sites: pd.DataFrame, place: str, tube: str) -> None:
    """The last tap's result, and the running counts of this desk, the site and the tube."""
    flash = st.session_state.pop("desk_flash", None)
    if flash:
        getattr(st, flash[0])(flash[1])
    forms.show_undo("desk", lang)
    counts = [t("tpage.desk_count", lang, n=fmt_int(st.session_state.get("desk_count", 0)))]
    if place != DOOR:
        row = sites[sites["site_id"] == int(place)]
        if not row.empty:
            counts.append(
                t(
                    "tpage.desk_site_total",
                    lang,
                    site=md(display_names(row, lang)[0]),
                    n=fmt_int(row["sampled"].iloc[0]),
                )
            )
    if tube:
        in_tube = st.session_state.get("desk_tubes", {}).get(tube, 0)
        counts.append(t("tpage.desk_tube_count", lang, n=fmt_int(in_tube), tube=md(tube)))
    st.markdown(" · ".join(f"**{c}**" for c in counts))


def _results(lang: str, actor: Actor, round_id: int, place: str, tube: str, query: str) -> None:
    if not query:
        st.caption(t("tpage.desk_hint", lang))
        return
    if len(query) < MIN_CHARS:
        st.caption(t("tpage.desk_too_short", lang))
        return
    found = data.cached(tq.find_residents, round_id=round_id, text=query, actor=actor)
    if found.empty:
        st.info(t("tpage.no_match", lang, text=md(query)))
        return
    for row in views.table_rows(found):
        where = f"{md(display_name(row, lang, 'building'))} {md(row.unit)}"
        label = f"{t('tpage.desk_mark', lang)} · {md(row.name)} · {where}"
        if isinstance(row.phone, str) and row.phone:
            label += f" · {md(row.phone)}"
        if isinstance(row.id_suffix, str) and row.id_suffix:
            # Tells namesakes in one flat apart (the desk asks for the ID card anyway).
            label += f" · {t('tpage.desk_id', lang, suffix=md(row.id_suffix))}"
        disabled = False
        if row.sampled:
            label += f" — {t('tpage.desk_already_tag', lang, time=tv.clock_time(row.sampled_at))}"
            disabled = True
        elif row.exempt:
            status = tv.desk_status_word(str(row.health_status), lang)
            label += f" — {t('tpage.desk_exempt_tag', lang, status=status)}"
            disabled = True
        st.button(
            label,
            key=f"desk_r_{int(row.resident_id)}",
            on_click=_record,
            args=(lang, actor, round_id, place, tube, int(row.resident_id), str(row.name)),
            disabled=disabled,
            type="secondary" if disabled else "primary",
            width="stretch",
        )


def _record(
    lang: str,
    actor: Actor,
    round_id: int,
    place: str,
    tube: str,
    resident_id: int,
    name: str,
) -> None:
    """One tap: record the sample, say so, count it, and clear the search for the next person."""
    door = place == DOOR
    try:
        with data.session() as s:
            record = retrying(
                lambda: ts.record_sample(
                    session=s,
                    resident_id=resident_id,
                    round_id=round_id,
                    actor=actor,
                    site_id=None if door else int(place),
                    door_to_door=door,
                    tube_code=tube or None,
                    client_token=forms.form_token(f"desk_{resident_id}"),
                ),
                session=s,
            )
    except WriteBusy as exc:
        # Said aloud, never lost silently: the person is still listed, the tap can be repeated.
        st.session_state["desk_flash"] = ("error", f"{name}: {t(exc.key, lang)}")
        return
    except ValidationFailed as exc:
        message = " ".join(t(m, lang) for m in exc.errors.values())
        st.session_state["desk_flash"] = ("warning", f"{md(name)}: {message}")
        data.invalidate()
        return
    except PermissionDenied:
        st.session_state["desk_flash"] = ("error", t("tpage.not_allowed", lang))
        return
    forms.renew_token(f"desk_{resident_id}")
    data.invalidate()
    sites = data.cached(tq.round_sites, round_id=round_id)
    site_name = "" if door else display_names(sites[sites["site_id"] == int(place)], lang)[0]
    where = t("tpage.door_word", lang) if door else t("tpage.at_site", lang, site=md(site_name))
    forms.offer_undo(
        "desk",
        message=t(
            "tpage.desk_recorded",
            lang,
            name=md(name),
            where=where,
            time=tv.clock_time(record.sampled_at),
        ),
        undo=partial(_undo, tv.sample_undo(actor, record.id or 0), tube),
        done_message=t("undo.sample_done", lang, name=md(name)),
    )
    st.session_state["desk_count"] = st.session_state.get("desk_count", 0) + 1
    if tube:
        tubes = dict(st.session_state.get("desk_tubes", {}))
        tubes[tube] = tubes.get(tube, 0) + 1
        st.session_state["desk_tubes"] = tubes
    st.session_state["desk_query"] = ""


def _undo(undo: Callable[[str], bool], tube: str, client_token: str) -> bool:
    """Undo the last sample and take it off this desk's counts."""
    if not undo(client_token):
        return False
    st.session_state["desk_count"] = max(0, st.session_state.get("desk_count", 0) - 1)
    tubes = dict(st.session_state.get("desk_tubes", {}))
    if tube and tubes.get(tube):
        tubes[tube] -= 1
        st.session_state["desk_tubes"] = tubes
    return True


page()
