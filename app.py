"""The explorer: `streamlit run app.py` (or `bash dev.sh app`). Pages live in app_pages/."""

import streamlit as st

from evidence.views.components import layout_css
from evidence.views.loaders import freeze_long_lived

freeze_long_lived()  # what earlier runs imported leaves the collector's sight (Streamlit collects after every run)
st.set_page_config(page_title="Child labour evidence explorer", layout="wide")
layout_css()  # small screens, wrapped labels, caption contrast
pages = [
    st.Page("app_pages/home.py", title="Start here", url_path="home", default=True),
    st.Page("app_pages/gap_map.py", title="Evidence gap map", url_path="gap-map"),
    st.Page("app_pages/what_works.py", title="What works", url_path="what-works"),
    st.Page("app_pages/studies.py", title="Studies", url_path="studies"),
    st.Page("app_pages/where.py", title="Where", url_path="where"),
    st.Page("app_pages/your_data.py", title="Analyse your own data", url_path="your-data"),
    st.Page("app_pages/code_study.py", title="Code a study", url_path="code-study"),
    st.Page("app_pages/reconcile.py", title="Reconcile codings", url_path="reconcile"),
    st.Page("app_pages/method.py", title="Method", url_path="method"),
]
st.navigation(pages).run()
