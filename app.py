"""Streamlit app: the chat page (partnerbot.page) and the relationship explorer (partnerbot.explore, /explore).

Thin: all logic lives in those modules and the shared answer interface.
"""

import streamlit as st

from partnerbot.explore import explore_page
from partnerbot.page import render

# Keep the presenter switch when moving between pages (a widget's state is dropped on a page that lacks it).
if "presenter" in st.session_state:
    st.session_state.presenter = st.session_state.presenter
st.navigation([st.Page(render, title="Chat", icon="🤝", url_path="chat", default=True), explore_page()]).run()
