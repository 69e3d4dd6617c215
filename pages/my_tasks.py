"""My tasks: a grid worker's tasks for today and those overdue; start and finish in one tap,
undo within a minute. Phone-first: the landing page of a grid worker.
"""

from __future__ import annotations

import streamlit as st

from gridcore.i18n import t
from gridcore.ui import session
from gridcore.ui import tasks as tv


def page() -> None:
    actor = session.require_actor()
    lang = session.language()
    st.html(tv.TASKS_CSS)
    st.title(t("page.my_tasks", lang))
    worker_id = tv.pick_worker(lang, actor)
    tv.my_tasks(lang, actor, worker_id)


page()
