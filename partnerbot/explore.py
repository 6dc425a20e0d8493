"""The relationship explorer (/explore): the two articles' ideas as pictures, and "place your own relationship".

Pictures come from partnerbot.charts (Altair); every element's tooltip names its cited passage, and clicking it
(or choosing it below the picture) shows the same source card as the chat. Placement: partnerbot.placement
(questionnaire or free text) and partnerbot.explain (the cited explanation and its Markdown).
"""

from __future__ import annotations

import streamlit as st

from . import charts
from .cards import PRESENTER_CSS, shown_errors, source_card
from .explain import citation, explain, store_lookup, to_markdown
from .export import escape_markdown as esc
from .placement import Placement, PlacementData, classify_answers, classify_text, load_placement
from .settings import Settings, get_settings

URL_PATH = "explore"
LANGS = {"en": "English", "nl": "Nederlands"}
UI = {
    "en": {"title": "Relationship explorer", "nav": "Relationship explorer",
           "intro": "The two articles as a lecturer would draw them. Hover over an element to see the passage it "
                    "comes from; click it, or choose it below the picture, for the full source card.",
           "source_of": "Where does it come from?", "overview": "the picture as a whole",
           "place": "Place your relationship", "questionnaire": "Questionnaire", "describe": "Describe it",
           "describe_help": "A few sentences: who commissions whom, for how long, what is shared, who decides.",
           "submit": "Place it", "result": "Your relationship", "stage": "Totus series", "glick": "Glick's range",
           "client": "Client", "contractor": "Contractor", "final": "Final say", "why": "Why",
           "too_little": "Too little to place it. These questions would settle it:", "not_placed": "not placed",
           "png": "Download the picture (PNG)", "svg": "Download the picture (SVG)",
           "md": "Download the explanation (Markdown)", "clear": "Clear", "presenter": "Presenter",
           "empty": "Describe the relationship first, or answer the questionnaire.", "skip": "(skip)",
           "pictures": "The pictures"},
    "nl": {"title": "Relatieverkenner", "nav": "Relatieverkenner",
           "intro": "De twee artikelen zoals een docent ze zou tekenen. Beweeg over een onderdeel om de passage te "
                    "zien waar het vandaan komt; klik erop, of kies het onder de tekening, voor de volledige bron.",
           "source_of": "Waar komt het vandaan?", "overview": "de tekening als geheel",
           "place": "Plaats uw eigen relatie", "questionnaire": "Vragenlijst", "describe": "Beschrijf haar",
           "describe_help": "Een paar zinnen: wie geeft wie opdracht, hoe lang, wat wordt gedeeld, wie beslist.",
           "submit": "Plaats haar", "result": "Uw relatie", "stage": "Reeks van Totus", "glick": "Reeks van Glick",
           "client": "Opdrachtgever", "contractor": "Opdrachtnemer", "final": "Laatste woord", "why": "Waarom",
           "too_little": "Te weinig om haar te plaatsen. Deze vragen zouden het beslissen:",
           "not_placed": "niet geplaatst", "png": "Download de tekening (PNG)", "svg": "Download de tekening (SVG)",
           "md": "Download de uitleg (Markdown)", "clear": "Wissen", "presenter": "Presentatie",
           "empty": "Beschrijf eerst de relatie, of vul de vragenlijst in.", "skip": "(overslaan)",
           "pictures": "De tekeningen"},
}
FINAL_WORDS = {"en": {"client": "the client", "contractor": "the contractor", "shared": "shared", "unknown": "not said"},
               "nl": {"client": "de opdrachtgever", "contractor": "de opdrachtnemer", "shared": "gedeeld",
                      "unknown": "niet genoemd"}}


def explore_page() -> st.Page:
    """The explorer as a page of the app (app.py registers it; the chat page links to it)."""
    return st.Page(render, title="Relationship explorer", icon="🧭", url_path=URL_PATH)


@st.cache_resource(show_spinner=False)
def _lookup(key: str, _settings: Settings):
    """One passage lookup per process and settings (the retriever follows the store when it changes)."""
    from .retrieval import get_retriever

    data = load_placement(str(_settings.corpus_dir))
    return data, store_lookup(get_retriever(_settings), data)


def load(settings: Settings) -> tuple[PlacementData, charts.Lookup]:
    from .store import store_exists

    if not store_exists(settings):
        from ingest import ingest_corpus

        with st.spinner("First run: ingesting the built-in corpus (about half a minute)…"):
            ingest_corpus(settings)
    return _lookup(settings.model_dump_json(), settings)


def _presenter() -> bool:
    """The chat page's presenter mode, on this page too (same session key, same ?presenter=1, same CSS)."""
    state = st.session_state
    if "presenter" not in state:
        state.presenter = st.query_params.get("presenter", "").lower() in ("1", "true", "yes", "on")
    if state.presenter:
        st.html(PRESENTER_CSS)
    return state.presenter


def _language() -> str:
    state = st.session_state
    if "explore_lang" not in state:
        state.explore_lang = "nl" if st.query_params.get("lang", "").lower().startswith("nl") else "en"
    return state.explore_lang or "en"


def render() -> None:
    presenter = _presenter()
    lang = _language()
    ui = UI[lang]
    st.set_page_config(page_title=f"partnerbot · {ui['title']}", page_icon="🧭",
                       initial_sidebar_state="collapsed" if presenter else "expanded")
    st.title(ui["title"])
    language, switch = st.columns([3, 2], vertical_alignment="center")
    language.segmented_control("Language / Taal", list(LANGS), format_func=LANGS.get, key="explore_lang",
                               label_visibility="collapsed")
    switch.toggle(ui["presenter"], key="presenter", help="Presenter mode: larger text and a collapsed sidebar.")
    lang = st.session_state.explore_lang or "en"
    ui = UI[lang]
    st.caption(ui["intro"])
    with shown_errors():
        data, lookup = load(get_settings())
        pictures(data, lookup, lang)
        place_yours(data, lookup, lang)


# --- the four pictures ---------------------------------------------------------------------------------------

def pictures(data: PlacementData, lookup, lang: str) -> None:
    ui = UI[lang]
    st.header(ui["pictures"])
    glick = {g["source"]: g["label"][lang] for g in data["glick"]}
    stages = {s["source"]: s["label"][lang] for s in data["stages"]}
    raci = {f["source"]: f["label"][lang] for f in data["raci"]["forums"]}
    roles = {"final-say": data["roles"]["client"][lang], "dimension": data["roles"]["contractor"][lang]}
    shown = [("glick", charts.glick_chart(data, lang, lookup), {"range": ui["overview"], **glick}),
             ("series", charts.series_chart(data, lang, lookup), {"series": ui["overview"], **stages}),
             ("map", charts.map_chart(data, lang, lookup), {"dimension": ui["overview"], **roles}),
             ("raci", charts.raci_chart(data, lang, lookup), {"raci": ui["overview"], **raci})]
    for name, chart, elements in shown:
        with st.container(border=True):
            event = st.altair_chart(chart, key=f"chart-{name}", on_select="rerun", selection_mode=charts.PICK,
                                    width="stretch")
            picked = _picked(event)
            choice = st.selectbox(ui["source_of"], list(elements), format_func=elements.get, key=f"source-{name}")
            key = picked if picked in data["sources"] else choice
            _card(lookup, key)


def _picked(event) -> str | None:
    try:
        points = event.selection.get(charts.PICK) or []
    except AttributeError:
        return None
    return points[0].get("key") if points and isinstance(points[0], dict) else None


def _card(lookup, key: str, marker: int = 1) -> None:
    source_card(citation(lookup, key, marker))


# --- place your relationship ---------------------------------------------------------------------------------

def place_yours(data: PlacementData, lookup, lang: str) -> None:
    ui = UI[lang]
    state = st.session_state
    st.header(ui["place"])
    ask, describe = st.tabs([ui["questionnaire"], ui["describe"]])
    with ask, st.form("questionnaire", border=False):
        columns = st.columns(2)
        answers = {}
        for number, question in enumerate(data["questions"]):
            options = {o["id"]: o["label"][lang] for o in question["options"]}
            answers[question["id"]] = columns[number % 2].radio(
                question["text"][lang], list(options), format_func=options.get, index=None,
                key=f"q-{question['id']}")
        if st.form_submit_button(ui["submit"], type="primary"):
            state.explore_input = ("answers", {k: v for k, v in answers.items() if v})
    with describe, st.form("describe", border=False):
        text = st.text_area(ui["describe"], help=ui["describe_help"], key="describe-text", max_chars=2000)
        if st.form_submit_button(ui["submit"], type="primary"):
            state.explore_input = ("text", text)
    given = state.get("explore_input")
    if given:
        show_placement(data, lookup, lang, *given)


def _placement(data: PlacementData, lang: str, kind: str, value) -> tuple[Placement, str]:
    if kind == "answers":
        return classify_answers(data, value, lang), ""
    placement = classify_text(data, value, lang)
    return placement, " ".join(value.split())


def show_placement(data: PlacementData, lookup, lang: str, kind: str, value) -> None:
    ui = UI[lang]
    if not value or (kind == "text" and not value.strip()):
        st.warning(ui["empty"])
        return
    placement, description = _placement(data, lang, kind, value)
    record = explain(placement, data, lookup, description)
    st.subheader(ui["result"])
    stage = data.stage(placement.stage)["label"][lang] if placement.stage else ui["not_placed"]
    glick = data.glick_type(placement.glick)["label"][lang] if placement.glick else ui["not_placed"]
    values = [stage, glick, placement.roles.get("client") or "?", placement.roles.get("contractor") or "?",
              FINAL_WORDS[lang][placement.final_say]]
    heads = [ui[k] for k in ("stage", "glick", "client", "contractor", "final")]
    st.markdown("| " + " | ".join(esc(h) for h in heads) + " |\n|" + "---|" * len(heads) + "\n| "
                + " | ".join(f"**{esc(v)}**" for v in values) + " |")
    if not placement.placed:
        st.warning(ui["too_little"] + " " + esc(" · ".join(record["questions"])))
    if placement.stage:
        st.altair_chart(charts.series_chart(data, lang, lookup, placement), key="placed-series", width="stretch")
        st.altair_chart(charts.map_chart(data, lang, lookup, placement), key="placed-map", width="stretch")
    if placement.glick:
        st.altair_chart(charts.glick_chart(data, lang, lookup, placement), key="placed-glick", width="stretch")
    st.markdown(f"**{ui['why']}.** " + esc(record["explanation"]))
    from .answer import Citation

    for c in record["citations"]:
        source_card(Citation(**c))
    downloads(data, lookup, lang, placement, record)


def downloads(data: PlacementData, lookup, lang: str, placement: Placement, record: dict) -> None:
    ui = UI[lang]
    columns = st.columns(3)
    if placement.stage or placement.glick:
        def image(fmt: str):
            return lambda: charts.to_image(charts.placement_picture(data, lang, lookup, placement), fmt)

        columns[0].download_button(ui["png"], data=image("png"), file_name="relationship.png", mime="image/png",
                                   key="export-png", on_click="ignore")
        columns[1].download_button(ui["svg"], data=image("svg"), file_name="relationship.svg",
                                   mime="image/svg+xml", key="export-svg", on_click="ignore")
    columns[2].download_button(ui["md"], data=to_markdown(record, data), file_name="relationship.md",
                               mime="text/markdown", key="export-placement-md", on_click="ignore")
