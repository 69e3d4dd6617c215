"""Streamlit-only helpers: cached query wrappers, chart and map builders, forms, layout."""
