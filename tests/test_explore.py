"""The relationship explorer (/explore) through Streamlit's AppTest: the four pictures and their cited elements,
Dutch labels, presenter mode, the questionnaire and free text, the exports; the chat page's link to it."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from partnerbot import charts
from partnerbot.explain import store_lookup
from partnerbot.placement import classify_answers, load_placement
from partnerbot.retrieval import get_retriever
from partnerbot.settings import PROJECT_ROOT
from test_browser import browser_page, server as explorer_server  # noqa: F401  (fixtures: real server, chromium)

EXPLORER = ("import streamlit as st\nfrom partnerbot.explore import explore_page\n"
            "st.navigation([explore_page()]).run()\n")
FIRST_RUN = 180
RUN = 60
STRATEGIC = {"commissions": "us", "duration": "open", "repeat": "ongoing", "exclusivity": "exclusive",
             "customisation": "codeveloped", "risk": "full", "planning": "strategy", "knowledge": "integrated",
             "final": "client"}


def explorer(monkeypatch, store, **params) -> AppTest:
    monkeypatch.setenv("PARTNERBOT_STORE", str(store))
    at = AppTest.from_string(EXPLORER, default_timeout=RUN)
    for name, value in params.items():
        at.query_params[name] = value
    at.run(timeout=FIRST_RUN)
    assert not at.exception and not at.error, [e.value for e in at.error]
    return at


def specs(at: AppTest) -> list[dict]:
    """Each drawn chart's Vega-Lite spec, with "_rows": its data rows (inline values of every layer, plus the
    shared data Streamlit moves out of the spec into an Arrow table)."""
    import pyarrow as pa

    drawn = []
    for chart in at.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        spec["_rows"] = _inline(spec)
        if chart.proto.data.data:
            spec["_rows"] += pa.ipc.open_stream(chart.proto.data.data).read_all().to_pylist()
        drawn.append(spec)
    return drawn


def _inline(spec: dict) -> list[dict]:
    rows = list((spec.get("data") or {}).get("values", []))
    for layer in spec.get("layer", []):
        rows += _inline(layer)
    return rows


def chart_rows(spec: dict) -> list[dict]:
    return spec["_rows"]


def result(at: AppTest) -> dict[str, str]:
    """The placement table (stage, type, roles, final say) as {heading: value}, Markdown escapes removed."""
    table = next((m.value for m in at.markdown if m.value.startswith("| Totus series")), None)
    if table is None:
        return {}
    head, _, values = table.splitlines()

    def cells(line: str) -> list[str]:
        return [c.strip().strip("*").replace("\\", "") for c in line.strip("| ").split(" | ")]

    return dict(zip(cells(head), cells(values)))


def card_titles(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("**\\[")]


def test_explorer_draws_the_four_pictures_and_every_element_cites_a_passage(monkeypatch, corpus_settings):
    at = explorer(monkeypatch, corpus_settings.store)
    assert at.title[0].value == "Relationship explorer"
    drawn = specs(at)
    assert len(drawn) == 4
    titles = [s["title"]["text"] for s in drawn]
    assert titles == ["Glick: customer, client, partner", "The Totus series: four stages",
                      "Two dimensions: the series × client/contractor", "RA(S)CI in the governance structure"]
    assert "not a maturity ladder" in drawn[0]["title"]["subtitle"][0]
    labels = {row.get("label") for spec in drawn for row in chart_rows(spec)}
    assert {"Customer", "Client", "Partner", "1. Supplier–customer", "4. Strategic partnership"} <= labels
    for spec in drawn:  # every element carries its cited passage (tooltip) and is clickable (selection "pick")
        elements = [row for row in chart_rows(spec) if "label" in row]
        assert elements and all(row["cited"] and row["voice"] and row["source"] and row["excerpt"]
                                for row in elements)
        params = spec.get("params", []) + [p for layer in spec["layer"] for p in layer.get("params", [])]
        assert any(p.get("name") == charts.PICK for p in params)
    raci = {(row["forum"], row["party"]): row["letters"] for row in chart_rows(drawn[3]) if "letters" in row}
    assert raci[("Steering board (highest escalation)", "Client")] == "A"
    assert "A" not in raci[("Steering board (highest escalation)", "Contractor")].split(", ")
    mapped = [row for row in chart_rows(drawn[2]) if row.get("letter") == "A"]
    assert len(mapped) == 4 and {row["role"] for row in mapped} == {"Client (commissions, pays, holds the A)"}

    # Choosing an element shows the chat's source card for its passage.
    at.selectbox(key="source-glick").set_value("partner").run()
    assert any("Glick on partners" in title for title in card_titles(at))
    assert any(":blue-badge[author]" in title for title in card_titles(at))
    at.selectbox(key="source-map").set_value("final-say").run()
    assert any("keep client/contractor apart" in title for title in card_titles(at))


def test_dutch_labels_with_lang_nl(monkeypatch, corpus_settings):
    at = explorer(monkeypatch, corpus_settings.store, lang="nl")
    assert at.title[0].value == "Relatieverkenner"
    drawn = specs(at)
    labels = {row.get("label") for spec in drawn for row in chart_rows(spec)}
    assert {"Klant", "Cliënt", "1. Leverancier–klant", "4. Strategisch partnerschap"} <= labels
    assert drawn[1]["title"]["text"] == "De reeks van Totus: vier fasen"
    assert at.radio(key="q-commissions").label == "Wie stelt de eisen en betaalt?"


def test_presenter_mode_applies_to_the_explorer(monkeypatch, corpus_settings):
    at = explorer(monkeypatch, corpus_settings.store, presenter="1")
    assert at.toggle(key="presenter").value is True
    assert any("font-size: 1.35rem" in h.proto.body for h in at.get("html"))
    at.toggle(key="presenter").set_value(False).run()
    assert not any("font-size: 1.35rem" in h.proto.body for h in at.get("html"))


def test_questionnaire_places_and_explains_with_sources(monkeypatch, corpus_settings):
    at = explorer(monkeypatch, corpus_settings.store)
    for question, option in STRATEGIC.items():
        at.radio(key=f"q-{question}").set_value(option)
    next(b for b in at.button if b.label == "Place it").click().run()
    assert not at.exception
    metrics = result(at)
    assert metrics == {"Totus series": "Strategic partnership", "Glick's range": "Partner", "Client": "we",
                       "Contractor": "the other party", "Final say": "the client"}
    why = next(m.value for m in at.markdown if m.value.startswith("**Why.**"))
    assert "Strategic partnership \\(stage 4 of 4" in why and "\\[1\\]" in why
    assert any("four\\-stage series" in title for title in card_titles(at))
    placed = specs(at)[4:]
    assert len(placed) == 3
    marks = [row for spec in placed for row in chart_rows(spec) if "you" in row or "who" in row]
    assert {row.get("who") for row in marks} >= {"we", "the other party"}
    assert any(row.get("id") == "strategic-partnership" for row in marks)
    assert {b.label for b in at.get("download_button")} >= {"Download the explanation (Markdown)"}


def test_free_text_too_little_asks_the_settling_questions(monkeypatch, corpus_settings):
    at = explorer(monkeypatch, corpus_settings.store)
    at.text_area(key="describe-text").input("They work with us.")
    [b for b in at.button if b.label == "Place it"][1].click().run()
    warning = at.warning[0].value
    assert warning.startswith("Too little to place it") and "How long does the relationship run?" in warning
    assert result(at)["Totus series"] == "not placed"


def test_free_text_is_placed_and_escaped(monkeypatch, corpus_settings):
    at = explorer(monkeypatch, corpus_settings.store)
    at.text_area(key="describe-text").input(
        "The <b>municipality</b> hires a cleaning firm for ten years at a fixed price per square metre.")
    [b for b in at.button if b.label == "Place it"][1].click().run()
    metrics = result(at)
    assert metrics["Totus series"] == "Supplier relationship" and metrics["Glick's range"] == "Customer"
    assert metrics["Contractor"] == "a cleaning firm"
    assert all("<b>" not in m.value for m in at.markdown)


def test_exported_picture_is_png_and_svg_with_the_mark(corpus_settings):
    data = load_placement(str(corpus_settings.corpus_dir))
    lookup = store_lookup(get_retriever(corpus_settings), data)
    placement = classify_answers(data, STRATEGIC)
    picture = charts.placement_picture(data, "en", lookup, placement)
    png = charts.to_image(picture, "png")
    svg = charts.to_image(picture, "svg").decode()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000
    assert svg.startswith("<svg") and "you are here" in svg and "Strategic partnership" in svg


def test_chat_page_links_to_the_explorer(monkeypatch, corpus_settings, tmp_path):
    monkeypatch.setenv("PARTNERBOT_STORE", str(corpus_settings.store))
    monkeypatch.setenv("PARTNERBOT_UPLOAD_DIR", str(tmp_path / "uploads"))
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=RUN)
    at.run(timeout=FIRST_RUN)
    assert not at.exception
    links = at.get("page_link")
    assert any("Relationship explorer" in link.proto.label and link.proto.page.endswith("explore")
               for link in links), [link.proto for link in links]


# --- in a real browser ---------------------------------------------------------------------------------------

SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"


def shot(page, name: str, height: int) -> None:
    """A tall screenshot once the run has finished (Streamlit scrolls inside the page, not the document)."""
    page.get_by_test_id("stStatusWidget").wait_for(state="hidden")
    page.set_viewport_size({"width": 1280, "height": height})
    page.wait_for_timeout(800)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name))
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.mark.slow
@pytest.mark.browser
def test_explorer_in_a_real_browser(explorer_server, browser_page, tmp_path):
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{explorer_server}/explore")
    page.get_by_role("heading", name="Relationship explorer").wait_for()
    charts_drawn = page.get_by_test_id("stVegaLiteChart")
    charts_drawn.nth(3).wait_for()
    assert charts_drawn.count() == 4
    page.wait_for_function("() => document.querySelectorAll('[data-testid=stVegaLiteChart] canvas, "
                           "[data-testid=stVegaLiteChart] svg.marks').length >= 4")
    # Hover over Glick's "Partner" point: the tooltip names the cited passage.
    glick = charts_drawn.nth(0).locator("canvas, svg.marks").first
    box = glick.bounding_box()
    found = ""
    for dx in range(-30, 31, 6):                          # the point sits at about 5/6 of the plot width
        page.mouse.move(box["x"] + box["width"] * (2.6 / 3.2) + dx, box["y"] + box["height"] * 0.5)
        page.wait_for_timeout(150)
        tooltip = page.locator("#vg-tooltip-element")
        if tooltip.count() and tooltip.is_visible() and "Glick on partners" in tooltip.inner_text():
            found = tooltip.inner_text()
            break
    assert "Cited passage" in found and "author" in found
    page.mouse.move(5, 5)
    shot(page, "explore-pictures.png", 3000)

    # Place a relationship from a description.
    page.get_by_role("tab", name="Describe it").click()
    page.get_by_role("textbox", name="Describe it").fill(
        "The ministry hires an IT contractor that is also its strategic partner: a shared vision and joint "
        "strategic planning, integrated teams, but the client has the final say.")
    page.get_by_role("tabpanel", name="Describe it").get_by_role("button", name="Place it").click()
    page.get_by_text("Your relationship", exact=True).wait_for()
    cells = page.locator("[data-testid=stMarkdownContainer] table td")
    cells.first.wait_for()
    assert cells.all_inner_texts() == ["Strategic partnership", "Partner", "the ministry", "an IT contractor",
                                       "the client"]
    charts_drawn.nth(6).wait_for()
    assert charts_drawn.count() == 7
    page.get_by_text("Why.", exact=False).first.scroll_into_view_if_needed()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the picture (PNG)").click()
    exported = tmp_path / "relationship.png"
    download.value.save_as(exported)
    assert exported.read_bytes().startswith(b"\x89PNG")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "explore-export.png").write_bytes(exported.read_bytes())
    page.get_by_text("Your relationship", exact=True).scroll_into_view_if_needed()
    shot(page, "explore-placed.png", 2600)

    # Dutch labels, presenter mode.
    page.goto(f"{explorer_server}/explore?lang=nl&presenter=1")
    page.get_by_role("heading", name="Relatieverkenner").wait_for()
    charts_drawn.nth(3).wait_for()
    page.wait_for_function("() => document.querySelector('[data-testid=stSidebar]').dataset.collapsed === 'true'")
    shot(page, "explore-dutch-presenter.png", 1400)
    assert errors == []
