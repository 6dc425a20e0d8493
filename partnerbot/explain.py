"""A Placement as a cited explanation (the `classify --json` record and the explorer's text), and as Markdown.

Every sentence cites a corpus passage named in corpus/placement.yaml (note id + section); the passage text comes
from the store (Retriever.note_passages), so the citations are the same cards the chat shows.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Callable

from .answer import Citation
from .errors import InputError, StoreError
from .export import voice_badge
from .placement import STAGES, Placement, PlacementData
from .retrieval import Passage, Retriever

Lookup = Callable[[str], Passage]

TEXT = {
    "en": {
        "stage": "{label} (stage {n} of 4 in the Totus series): {traits}; the description shows {signals}",
        "stage_none": "The description gives too little to place it on the series",
        "glick": "On Glick's range it is closest to {article} {label}, defined by {defined_by}",
        "glick_none": "It gives too little to place it on Glick's range, which is not a maturity ladder",
        "roles": "Client and contractor are a separate dimension: {client} commissions and {contractor} carries out, "
                 "and that can go with any stage",
        "roles_none": "Who commissions and who carries out is not said; that role split is a separate dimension "
                      "that can go with any stage",
        "client": "The last word is with the client, which is where the author puts the A in the highest escalation forum",
        "contractor": "The last word is described as the contractor's; the author keeps the A in the highest "
                      "escalation forum with the client alone",
        "shared": "The last word is described as shared; the author keeps the A in the highest escalation forum with "
                  "the client alone, so settle who holds it",
        "unknown": "Who has the last word is not said; the author proposes that the client holds the A in the "
                   "highest escalation forum",
        "next": "One stage further, to the {label}: {step}",
        "last": "Further: {step}",
        "settle": "To settle it, answer: {questions}",
        "and": "and", "signals_none": "no clear signal",
        "sources": "Sources", "title": "Placement",
    },
    "nl": {
        "stage": "{label} (fase {n} van 4 in de reeks van Totus): {traits}; de beschrijving noemt {signals}",
        "stage_none": "De beschrijving geeft te weinig om haar in de reeks te plaatsen",
        "glick": "Op de reeks van Glick ligt het het dichtst bij {label}, gekenmerkt door {defined_by}",
        "glick_none": "Ze geeft te weinig om haar op de reeks van Glick te plaatsen, die geen volwassenheidsladder is",
        "roles": "Opdrachtgever en opdrachtnemer vormen een aparte dimensie: {client} geeft opdracht en "
                 "{contractor} voert uit, en dat kan bij elke fase",
        "roles_none": "Wie opdracht geeft en wie uitvoert staat er niet bij; die rolverdeling is een aparte dimensie "
                      "die bij elke fase kan",
        "client": "Het laatste woord ligt bij de opdrachtgever, waar de auteur de A in het hoogste escalatieforum legt",
        "contractor": "Het laatste woord ligt volgens de beschrijving bij de opdrachtnemer; de auteur legt de A in het "
                      "hoogste escalatieforum alleen bij de opdrachtgever",
        "shared": "Het laatste woord wordt volgens de beschrijving gedeeld; de auteur legt de A in het hoogste "
                  "escalatieforum alleen bij de opdrachtgever, dus leg vast wie die heeft",
        "unknown": "Wie het laatste woord heeft staat er niet bij; de auteur stelt voor dat de opdrachtgever de A in "
                   "het hoogste escalatieforum heeft",
        "next": "Eén fase verder, naar {label}: {step}",
        "last": "Verder: {step}",
        "settle": "Om het vast te stellen, beantwoord: {questions}",
        "and": "en", "signals_none": "geen duidelijk signaal",
        "sources": "Bronnen", "title": "Plaatsing",
    },
}


def store_lookup(retriever: Retriever, data: PlacementData) -> Lookup:
    """key of placement.yaml's sources → the stored passage (the note's chunk under that section heading)."""
    cache: dict[str, Passage] = {}

    def lookup(key: str) -> Passage:
        if key not in cache:
            source = data["sources"][key]
            found = [p for p in retriever.note_passages(source["note"]) if p.section == source["section"]]
            if not found:
                raise StoreError(f"The store has no passage '{source['section']}' of corpus note {source['note']}: "
                                 "run `partnerbot ingest` to load the built-in corpus.")
            cache[key] = found[0]
        return cache[key]

    return lookup


def citation(lookup: Lookup, key: str, marker: int = 1) -> Citation:
    return Citation.from_passage(marker, lookup(key))


def _join(items: list[str], lang: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {TEXT[lang]['and']} " + items[-1]


def _roles_sentence(template: str, roles: dict, lang: str) -> str:
    """The roles sentence with the verbs agreeing with "we"/"wij" (we commission, wij voeren uit)."""
    text = template.format(**roles)
    plural = {"en": {"commissions": "commission", "carries out": "carry out"},
              "nl": {"geeft opdracht": "geven opdracht", "voert uit": "voeren uit"}}[lang]
    for role, verb in zip(("client", "contractor"), plural):
        if roles[role].lower() in ("we", "wij"):
            text = text.replace(f"{roles[role]} {verb}", f"{roles[role]} {plural[verb]}", 1)
    return text


def explain(placement: Placement, data: PlacementData, lookup: Lookup, description: str = "") -> dict:
    """The classify record: placement, explanation with [n] markers in order of use, and the cited passages."""
    lang = "nl" if placement.language == "nl" else "en"
    words = TEXT[lang]
    keys: list[str] = []

    def cite(*names: str) -> str:
        for name in names:
            if name not in keys:
                keys.append(name)
        return "".join(f" [{keys.index(n) + 1}]" for n in names)

    sentences = []
    stage_signals = [data.signals[s].label[lang] for s in placement.signals
                     if data.signals[s].stage or data.signals[s].glick]
    if placement.stage:
        stage = data.stage(placement.stage)
        sentences.append(words["stage"].format(label=stage["label"][lang], n=stage["number"], traits=stage["traits"][lang],
                                               signals=_join(stage_signals, lang) or words["signals_none"])
                         + cite(stage["source"]))
    else:
        sentences.append(words["stage_none"] + cite("series"))
    if placement.glick:
        kind = data.glick_type(placement.glick)
        label = kind["label"][lang].lower() if lang == "en" else f"de {kind['label'][lang].lower()}"
        sentences.append(words["glick"].format(article="an" if label[0] in "aeiou" else "a", label=label,
                                               defined_by=kind["defined_by"][lang]) + cite(kind["source"], "range"))
    else:
        sentences.append(words["glick_none"] + cite("range"))
    roles = placement.roles
    if roles.get("client") and roles.get("contractor"):
        sentences.append(_roles_sentence(words["roles"], roles, lang) + cite("dimension"))
    else:
        sentences.append(words["roles_none"] + cite("dimension"))
    sentences.append(words[placement.final_say] + cite("final-say"))
    next_step = ""
    if placement.stage:
        step = data["next_step"][placement.stage][lang]
        position = STAGES.index(placement.stage)
        if position + 1 < len(STAGES):
            following = data.stage(STAGES[position + 1])
            next_step = words["next"].format(label=following["label"][lang].lower() if lang == "en"
                                             else following["label"][lang], step=step)
            sentences.append(next_step + cite(following["source"]))
        else:
            next_step = words["last"].format(step=step)
            sentences.append(next_step + cite("partner-cost"))
    questions = [data.question(q)["text"][lang] for q in placement.settle]
    if placement.stage is None or placement.glick is None:
        sentences.append(words["settle"].format(questions=" · ".join(questions)) + cite("series"))
    text = " ".join(s.rstrip(".") + "." for s in sentences)
    citations = [asdict(citation(lookup, key, number)) for number, key in enumerate(keys, 1)]
    return {"description": description, "language": lang, "stage": placement.stage, "glick": placement.glick,
            "roles": dict(roles), "final_say": placement.final_say, "explanation": text, "citations": citations,
            "signals": list(placement.signals), "questions": questions, "next_step": next_step}


def to_markdown(record: dict, data: PlacementData) -> str:
    """A placement record as a readable Markdown hand-out: placement, explanation, numbered sources."""
    from .export import escape_markdown
    from .export import MARKDOWN_INLINE

    lang = record.get("language", "en")
    words = TEXT[lang]

    def esc(text) -> str:
        return escape_markdown(text, MARKDOWN_INLINE)

    stage = data.stage(record["stage"])["label"][lang] if record.get("stage") else "—"
    glick = data.glick_type(record["glick"])["label"][lang] if record.get("glick") else "—"
    roles = record.get("roles") or {}
    lines = [f"# {words['title']}", ""]
    if record.get("description"):
        lines += [f"> {esc(record['description'])}", ""]
    lines += [f"- Totus series: **{esc(stage)}**", f"- Glick: **{esc(glick)}**",
              f"- {data['roles']['client'][lang]}: {esc(roles.get('client') or '—')}",
              f"- {data['roles']['contractor'][lang]}: {esc(roles.get('contractor') or '—')}",
              f"- final say: **{esc(record.get('final_say', 'unknown'))}**", "", esc(record["explanation"]), "",
              f"## {words['sources']}", ""]
    for c in record["citations"]:
        head = f"[{c['marker']}] {c['title']} — {c['source_title']} ({c['author']}; {voice_badge(c['voice'])})"
        lines += [esc(head), "", "> " + esc(" ".join(c["text"].split())), ""]
    return "\n".join(lines)


def classifier(settings) -> Callable[[str], dict]:
    """description → classify record, with the store, vocabulary and placement data opened once."""
    from .placement import classify_text, load_placement
    from .retrieval import get_retriever, validate_question
    from .vocab import load_vocab

    data = load_placement(str(settings.corpus_dir))
    vocab = load_vocab(str(settings.corpus_dir))
    lookup = store_lookup(get_retriever(settings), data)

    def classify(description: str) -> dict:
        if not str(description or "").strip():
            raise InputError("The description is empty: describe the relationship, e.g. \"We buy laptops once "
                             "from a webshop\".")
        text = validate_question(description, settings)
        placement = classify_text(data, text, vocab.language(text))
        return explain(placement, data, lookup, text)

    return classify
