"""The page's two access questions, per browser session: whose private documents does it see (its own, or a
workspace's opened by code or ?workspace= link), and may it change the shared store (admin token)."""

from __future__ import annotations

import streamlit as st

from .errors import PartnerbotError
from .export import escape_markdown as esc
from .settings import Settings
from .workspaces import is_admin, new_workspace_code, session_owner, workspace_owner


def session_owner_id() -> str:
    """The owner of this session's uploads: its workspace (opened by code or ?workspace= link), else the
    session itself. Only this session's answers search them (see retrieval.OwnerRetriever)."""
    state = st.session_state
    if "owner" not in state:
        state.owner = session_owner()
    if "workspace_code" not in state:
        state.workspace_code = None
        code = st.query_params.get("workspace")
        if code:
            _open_workspace(code)
    return workspace_owner(state.workspace_code) if state.workspace_code else state.owner


def scope_label(settings: Settings) -> str:
    """Which mode the page is in, for the status lines."""
    state = st.session_state
    where = ("a workspace (everyone with its code)" if state.get("workspace_code")
             else "private to this browser session")
    admin = "; admin: may change the shared store" if state.get("admin") else ""
    return f"your uploads: {where}{admin}"


def workspace_panel(settings: Settings) -> None:
    """Open a workspace by code (documents shared by everyone with the code), start one, or leave it."""
    state = st.session_state
    st.subheader("Workspace")
    if state.get("workspace_code"):
        st.markdown(f"Open: `{esc(state.workspace_code)}`")
        st.caption("Everyone who opens this code (or the page's address, which now carries it) sees and can "
                   "remove this workspace's documents.")
        st.button("Leave the workspace", key="leave-workspace", on_click=_leave_workspace)
        return
    st.caption("A workspace keeps documents across reloads and shares them with whoever has its code.")
    with st.form("workspace-form", clear_on_submit=True, border=False):
        code = st.text_input("Workspace code", key="workspace-code-input")
        opened = st.form_submit_button("Open")
    if opened:
        _open_workspace(code)
        st.rerun()
    st.button("New workspace", key="new-workspace", on_click=_open_workspace, args=(None,))
    for message in state.pop("workspace_notes", []):
        st.error(esc(message))


def _open_workspace(code: str | None) -> None:
    state = st.session_state
    code = (code or new_workspace_code()).strip()
    try:
        workspace_owner(code)
    except PartnerbotError as exc:
        state.workspace_notes = [str(exc)]
        st.query_params.pop("workspace", None)
        return
    state.workspace_code = code
    st.query_params["workspace"] = code


def _leave_workspace() -> None:
    st.session_state.workspace_code = None
    st.query_params.pop("workspace", None)


def admin_panel(settings: Settings) -> None:
    """Unlock changing the shared store with the deployment's admin token (PARTNERBOT_ADMIN_TOKEN)."""
    state = st.session_state
    st.subheader("Shared store")
    if settings.admin_token is None:
        st.caption("This deployment changes the shared store only from the command line (`partnerbot ingest`).")
        return
    if state.get("admin"):
        st.caption("Admin: you can add documents to the shared store and remove them.")
        st.button("Lock admin mode", key="admin-lock", on_click=_set_admin, args=(settings, None))
        return
    with st.form("admin-form", clear_on_submit=True, border=False):
        offered = st.text_input("Admin token", key="admin-token-input", type="password")
        unlocked = st.form_submit_button("Unlock admin mode")
    if unlocked:
        _set_admin(settings, offered)
        if not state.get("admin"):
            st.error("That is not the admin token: the shared store stays as it is.")
        else:
            st.rerun()


def _set_admin(settings: Settings, offered: str | None) -> None:
    state = st.session_state
    state.admin = is_admin(settings, offered)
    state.admin_offered = offered if state.admin else None
