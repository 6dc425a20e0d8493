"""The explorer's pictures as Altair (Vega-Lite) charts, and their PNG/SVG export through vl-convert (offline).

Every element carries `key` (a placement.yaml source key) and the cited passage's title, voice, source and an
excerpt for its tooltip; clicking an element selects it (selection parameter PICK, field "key").
"""

from __future__ import annotations

import textwrap
from typing import Callable

import altair as alt
import pandas  # noqa: F401  altair's to_dict peeks at sys.modules["pandas"]; imported here, before any session
#                thread can, so a room of sessions never sees it half-imported (found by bench/classroom.py)

from .export import voice_badge
from .placement import STAGES, Placement, PlacementData
from .retrieval import Passage

PICK = "pick"
COLORS = {"customer": "#8da0cb", "client": "#66c2a5", "partner": "#fc8d62"}
STAGE_COLORS = ("#deebf7", "#9ecae1", "#4292c6", "#08519c")
MARK = "#d62728"       # the user's placement
TOOLTIP = [alt.Tooltip("label:N", title="Element"), alt.Tooltip("cited:N", title="Cited passage"),
           alt.Tooltip("voice:N", title="Voice"), alt.Tooltip("source:N", title="Source"),
           alt.Tooltip("excerpt:N", title="Passage")]
WORDS = {
    "en": {"glick": "Glick: customer, client, partner", "series": "The Totus series: four stages",
           "map": "Two dimensions: the series × client/contractor", "raci": "RA(S)CI in the governance structure",
           "map_note": "A contractor can sit at any stage; the A (final say in the highest escalation forum) stays "
                       "with the client.", "you": "you are here", "stage": "Stage", "role": "Role",
           "forum": "Forum", "party": "Party", "client": "Client", "contractor": "Contractor"},
    "nl": {"glick": "Glick: klant, cliënt, partner", "series": "De reeks van Totus: vier fasen",
           "map": "Twee dimensies: de reeks × opdrachtgever/opdrachtnemer",
           "raci": "RA(S)CI in de governancestructuur",
           "map_note": "Een opdrachtnemer kan in elke fase zitten; de A (laatste woord in het hoogste "
                       "escalatieforum) blijft bij de opdrachtgever.", "you": "u bent hier", "stage": "Fase",
           "role": "Rol", "forum": "Forum", "party": "Partij", "client": "Opdrachtgever",
           "contractor": "Opdrachtnemer"},
}
Lookup = Callable[[str], Passage]


def _wrap(text: str, width: int) -> str:
    """Lines joined by newlines (marks use lineBreak="\\n"; a list would not survive Streamlit's Arrow data)."""
    return "\n".join(textwrap.wrap(text, width, break_long_words=False))


def _cited(lookup: Lookup, key: str) -> dict:
    """Tooltip fields of the passage behind an element."""
    p = lookup(key)
    return {"key": key, "cited": p.title, "voice": voice_badge(p.voice), "source": p.source_title,
            "excerpt": textwrap.shorten(" ".join(p.text.split()), 220, placeholder=" …")}


def _base(rows: list[dict]) -> alt.Chart:
    return alt.Chart(alt.Data(values=rows))


def _pick() -> alt.Parameter:
    return alt.selection_point(name=PICK, fields=["key"], on="click", clear="dblclick")


def glick_chart(data: PlacementData, lang: str, lookup: Lookup, placement: Placement | None = None) -> alt.LayerChart:
    """Glick's range as three points on one line: no arrows, since it is not a maturity ladder."""
    rows = [{"x": i, "id": g["id"], "label": g["label"][lang], "short": g["short"][lang],
             "lines": _wrap(g["defined_by"][lang], 34), **_cited(lookup, g["source"])}
            for i, g in enumerate(data["glick"])]
    base = _base(rows)
    x = alt.X("x:Q", axis=None, scale=alt.Scale(domain=[-0.6, 2.6]))
    line = _base([{"x": 0}, {"x": 2}]).mark_line(color="#999", strokeWidth=3).encode(
        x=x, y=alt.Y("y:Q", axis=None, scale=alt.Scale(domain=[-2.2, 1.2]))).transform_calculate(y="0")
    y = alt.Y("y:Q", axis=None, scale=alt.Scale(domain=[-2.2, 1.2]))
    dots = base.mark_circle(size=900, opacity=1, stroke="white", strokeWidth=2).encode(
        x=x, y=y, color=alt.Color("id:N", scale=alt.Scale(domain=list(COLORS), range=list(COLORS.values())),
                                  legend=None), tooltip=TOOLTIP).transform_calculate(y="0").add_params(_pick())
    names = base.mark_text(fontSize=17, fontWeight="bold", dy=-30).encode(
        x=x, y=y, text="label:N", tooltip=TOOLTIP).transform_calculate(y="0")
    defined = base.mark_text(fontSize=12, baseline="top", lineHeight=15, lineBreak="\n").encode(
        x=x, y=y, text="lines:N", tooltip=TOOLTIP).transform_calculate(y="-0.55")
    layers = [line, dots, names, defined]
    if placement is not None and placement.glick:
        layers.append(_you(data, lang, rows, placement.glick, x, y, "0"))
    warning = data["range_warning"][lang]
    return alt.layer(*layers).properties(
        width="container", height=230,
        title=alt.TitleParams(WORDS[lang]["glick"], subtitle=[warning], anchor="start", fontSize=18))


def _you(data, lang, rows, chosen, x, y, level) -> alt.Chart:
    row = next(r for r in rows if r["id"] == chosen)
    ring = _base([{**row, "you": "▼ " + WORDS[lang]["you"]}])
    return alt.layer(
        ring.mark_circle(size=2200, fill=None, stroke=MARK, strokeWidth=4).encode(x=x, y=y, tooltip=TOOLTIP)
        .transform_calculate(y=level),
        ring.mark_text(fontSize=14, fontWeight="bold", color=MARK, dy=-56).encode(x=x, y=y, text="you:N")
        .transform_calculate(y=level))


def series_chart(data: PlacementData, lang: str, lookup: Lookup, placement: Placement | None = None) -> alt.LayerChart:
    """The four stages left to right, each with what characterises it."""
    rows = [{"n": s["number"], "id": s["id"], "label": f"{s['number']}. {s['label'][lang]}",
             "title": _wrap(f"{s['number']}. {s['label'][lang]}", 16), "lines": _wrap(s["short"][lang], 22), "x0": s["number"] - 0.47, "x1": s["number"] + 0.47,
             **_cited(lookup, s["source"])} for s in data["stages"]]
    base = _base(rows)
    x = alt.X("n:Q", axis=None, scale=alt.Scale(domain=[0.5, 4.5]))
    y = alt.Y("y:Q", axis=None, scale=alt.Scale(domain=[0, 1]))
    boxes = base.mark_rect(cornerRadius=8, stroke="white", strokeWidth=2).encode(
        x=alt.X("x0:Q", axis=None, scale=alt.Scale(domain=[0.5, 4.5])), x2="x1:Q",
        y=alt.Y("y0:Q", axis=None, scale=alt.Scale(domain=[0, 1])), y2="y1:Q",
        color=alt.Color("id:N", scale=alt.Scale(domain=list(STAGES), range=list(STAGE_COLORS)), legend=None),
        tooltip=TOOLTIP).transform_calculate(y0="0.12", y1="0.88").add_params(_pick())
    titles = base.mark_text(fontSize=13, fontWeight="bold", baseline="top", lineBreak="\n", lineHeight=17).encode(
        x=x, y=y, text="title:N", tooltip=TOOLTIP,
        color=alt.condition("datum.n > 2", alt.value("white"), alt.value("#111"))).transform_calculate(y="0.8")
    traits = base.mark_text(fontSize=12, baseline="top", lineHeight=15, lineBreak="\n").encode(
        x=x, y=y, text="lines:N", tooltip=TOOLTIP,
        color=alt.condition("datum.n > 2", alt.value("white"), alt.value("#111"))).transform_calculate(y="0.5")
    layers = [boxes, titles, traits]
    if placement is not None and placement.stage:
        chosen = next(r for r in rows if r["id"] == placement.stage)
        layers.append(_base([{**chosen, "you": "▲ " + WORDS[lang]["you"]}]).mark_rect(
            fill=None, stroke=MARK, strokeWidth=5, cornerRadius=8).encode(
            x=alt.X("x0:Q", axis=None, scale=alt.Scale(domain=[0.5, 4.5])), x2="x1:Q",
            y=alt.Y("y0:Q", axis=None, scale=alt.Scale(domain=[0, 1])), y2="y1:Q", tooltip=TOOLTIP)
            .transform_calculate(y0="0.1", y1="0.9"))
        layers.append(_base([{**chosen, "you": "▲ " + WORDS[lang]["you"]}]).mark_text(
            fontSize=14, fontWeight="bold", color=MARK).encode(x=x, y=y, text="you:N").transform_calculate(y="0.03"))
    return alt.layer(*layers).properties(
        width="container", height=200, title=alt.TitleParams(WORDS[lang]["series"], anchor="start", fontSize=18))


def map_chart(data: PlacementData, lang: str, lookup: Lookup, placement: Placement | None = None) -> alt.LayerChart:
    """Stages across, roles down: the contractor row is filled at every stage, the A stays in the client row."""
    words = WORDS[lang]
    stage_names = [f"{s['number']}. {s['label'][lang]}" for s in data["stages"]]
    role_names = [data["roles"]["client"][lang], data["roles"]["contractor"][lang]]
    rows = []
    for s, name in zip(data["stages"], stage_names):
        rows.append({"stage": name, "role": role_names[0], "id": s["id"], "letter": "A",
                     **_cited(lookup, "final-say")})
        rows.append({"stage": name, "role": role_names[1], "id": s["id"], "letter": "R",
                     **_cited(lookup, "dimension")})
    for row in rows:
        row["label"] = f"{row['role']} · {row['stage']}"
    x = alt.X("stage:N", sort=stage_names, title=None, axis=alt.Axis(
        labelAngle=0, labelFontSize=12, labelLimit=200, orient="bottom", labelOverlap=False,
        labelExpr="split(replace(replace(datum.label, /–/g, '–|'), / /g, '|'), '|')", labelLineHeight=14))
    y = alt.Y("role:N", sort=role_names, title=None, axis=alt.Axis(labelFontSize=12, labelLimit=320))
    base = _base(rows)
    cells = base.mark_rect(stroke="white", strokeWidth=3, cornerRadius=6).encode(
        x=x, y=y, color=alt.Color("letter:N", scale=alt.Scale(domain=["A", "R"], range=["#fdd0a2", "#c6dbef"]),
                                  legend=None), tooltip=TOOLTIP).add_params(_pick())
    letters = base.mark_text(fontSize=20, fontWeight="bold", dy=-4).encode(x=x, y=y, text="letter:N",
                                                                           tooltip=TOOLTIP)
    layers = [cells, letters]
    if placement is not None and placement.stage:
        column = stage_names[STAGES.index(placement.stage)]
        roles = placement.roles or {}
        marks = [{"stage": column, "role": role_names[0], "who": roles.get("client") or "?"},
                 {"stage": column, "role": role_names[1], "who": roles.get("contractor") or "?"}]
        layers.append(_base(marks).mark_rect(fill=None, stroke=MARK, strokeWidth=4, cornerRadius=6)
                      .encode(x=x, y=y))
        layers.append(_base(marks).mark_text(fontSize=12, color=MARK, fontWeight="bold", dy=22)
                      .encode(x=x, y=y, text="who:N"))
    return alt.layer(*layers).properties(
        width="container", height=260,
        title=alt.TitleParams(words["map"], subtitle=[words["map_note"]], anchor="start", fontSize=18))


def raci_chart(data: PlacementData, lang: str, lookup: Lookup) -> alt.LayerChart:
    """Forums (top = highest escalation) × parties, letters in the cells; the top forum's A is the client's."""
    words = WORDS[lang]
    raci = data["raci"]
    forums = [f["label"][lang] for f in raci["forums"]]
    parties = [words[p] for p in raci["parties"]]
    rows = [{"forum": f["label"][lang], "party": words[p], "letters": f["cells"][p],
             "has_a": "A" in f["cells"][p].split(", "), "label": f"{f['label'][lang]} · {words[p]}",
             **_cited(lookup, f["source"])} for f in raci["forums"] for p in raci["parties"]]
    x = alt.X("party:N", sort=parties, title=None, axis=alt.Axis(labelAngle=0, orient="top", labelFontSize=13))
    y = alt.Y("forum:N", sort=forums, title=None, axis=alt.Axis(labelFontSize=12, labelLimit=320))
    base = _base(rows)
    cells = base.mark_rect(stroke="white", strokeWidth=3, cornerRadius=6).encode(
        x=x, y=y, color=alt.Color("has_a:N", scale=alt.Scale(domain=[True, False], range=["#fdae6b", "#deebf7"]),
                                  legend=None), tooltip=TOOLTIP).add_params(_pick())
    letters = base.mark_text(fontSize=20, fontWeight="bold").encode(x=x, y=y, text="letters:N", tooltip=TOOLTIP)
    return alt.layer(cells, letters).properties(
        width="container", height=200,
        title=alt.TitleParams(words["raci"], subtitle=[raci["note"][lang]], anchor="start", fontSize=18))


def placement_picture(data: PlacementData, lang: str, lookup: Lookup, placement: Placement) -> alt.VConcatChart:
    """The exported picture: the series, Glick's range and the two-dimension map, each with the mark."""
    import warnings

    charts = [c.properties(width=760) for c in (series_chart(data, lang, lookup, placement),
                                                glick_chart(data, lang, lookup, placement),
                                                map_chart(data, lang, lookup, placement))]
    with warnings.catch_warnings():  # the three charts' identical click selections are merged into one: fine
        warnings.filterwarnings("ignore", message="Automatically deduplicated selection parameter")
        return (alt.vconcat(*charts, spacing=30).resolve_scale(color="independent").configure_view(stroke=None)
                .properties(background="white"))


def to_image(chart: alt.TopLevelMixin, fmt: str) -> bytes:
    """PNG or SVG bytes, rendered in-process by vl-convert (no browser, no network)."""
    import vl_convert

    spec = chart.to_dict()
    if fmt == "png":
        return vl_convert.vegalite_to_png(spec, scale=2)
    if fmt == "svg":
        return vl_convert.vegalite_to_svg(spec).encode("utf-8")
    raise ValueError(f"unknown image format {fmt!r}")
