"""Streamlit chat page. Thin: all logic lives in partnerbot.page and the shared answer interface."""

from partnerbot.page import render

render()
