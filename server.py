"""GridCore's web server: Streamlit's own ASGI app (app.py) plus the session-cookie routes.

Start it with `python -m streamlit run server.py` (what `make run` does). `streamlit run
app.py` also works, but then a reload signs the user out (no cookie can be set).
"""

import streamlit as st

from gridcore.config import private_umask
from gridcore.ui.session_cookie import routes

# The database and anything else this server writes hold personal data: 0600.
private_umask()
app = st.App("app.py", routes=routes())
