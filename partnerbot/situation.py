"""The sentences that answer a described arrangement ("we have a five-year contract; they set the requirements;
so are we partners?"): the roles it implies, where it sits on the Totus series and on Glick's range, the signs
of partnership it names or lacks, each with the note section it cites (data: corpus/focus.yaml situation,
corpus/placement.yaml); Situations is the answerer's part that turns them, with the verdict a description
implies, into an answer."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .compose import PARTIES
from .question import Focus, Question, last_asked
from .verdicts import reported_negative

if TYPE_CHECKING:
    from .result import Answer
    from .retrieval import Passage


def situation_lead(question: Question, focus: Focus, lang: str) -> tuple[list[tuple[str, dict]], str | None]:
    """The sentences that map a described arrangement onto the roles, each with the note section it cites, and
    the verdict they imply for 'so are we partners?': yes when the description names signs of partnership
    (shared risk, joint planning), no when it names none."""
    data = focus.situation
    roles_text = data.get("roles") or {}
    keys = []
    for cue in question.situation:
        party = cue.get("party")
        for concept in cue.get("concepts") or ():
            key = f"{party}_{concept}"
            if party and key in roles_text and key not in keys:
                keys.append(key)
    roles = [roles_text[k].get(lang, roles_text[k].get("en")) for k in keys] or \
        [roles_text.get("unclear", {}).get(lang, "")]
    out = [((data.get("lead") or {}).get(lang, "{roles}.").format(roles="; ".join(r for r in roles if r)),
            data.get("cite") or {})]
    out += stage_sentence(question, focus, lang)
    found = {c["id"] for c in question.situation}
    named = data.get("signs") or {}
    signs = [named[k].get(lang) for k in named if k in found]
    signs += [c["label"].get(lang, c["label"].get("en")) for c in question.situation
              if c.get("signal") and c["id"] not in named and c["partnership"] >= data.get("sign_weight", 2)]
    signs = signs[:3]
    block = data.get("partnership_signs" if signs else "no_signs") or {}
    joiner = " and " if lang == "en" else " en "
    out.append((block.get(lang, "").format(signs=joiner.join(signs)), block.get("cite") or {}))
    if "duration" in found and not signs and data.get("duration"):
        out.append((data["duration"].get(lang, ""), data["duration"].get("cite") or {}))
    verdict = block.get("verdict")
    general = list(data.get("answer") or ())
    # a sentence about a concept the question asks of ("can we be both at once?") comes straight after the roles,
    # and its verdict answers the question instead of whether this arrangement is a partnership
    asked = [item for item in general if item.get("concept") in question.concepts]
    if asked:
        general = asked + [item for item in general if item not in asked]
        out.insert(1, (asked[0].get(lang, ""), asked[0].get("cite") or {}))
        general = general[1:]
        verdict = asked[0].get("verdict", verdict)
        verdict = _asked_verdict(asked[0], last_asked(question.text), "asker_contractor" in keys) or verdict
        verdict = next((v for sid, v in (asked[0].get("verdicts") or {}).items() if sid in found), verdict)
    out += [(item.get(lang, ""), item.get("cite") or {}) for item in general]
    return [(text, cite) for text, cite in out if text], verdict


def _asked_verdict(item: dict, said: str, asker_contractor: bool) -> str | None:
    """The verdict of a general sentence that the question sentence asks about (verdict_asked: the client keeps the
    final say), turned round when asked of the other party ("does the contractor get the veto?", or "do we …?"
    from the contractor's side)."""
    spec = item.get("verdict_asked")
    if not spec or not re.search(spec["asked"], said, re.I):
        return None
    of = item.get("verdict_of")
    we = asker_contractor and re.search(r"\b(we|wij|us|ons|i|ik|me|mij)\b", said, re.I)
    if of and re.search(of["shared"], said, re.I):   # a final say shared by both is not what the author advises
        return of["verdict"]
    if of and (we or re.search(of["pattern"], said, re.I)) and not re.search(of["unless"], said, re.I):
        return of["verdict"]
    return spec["verdict"]


def stage_sentence(question: Question, focus: Focus, lang: str) -> list[tuple[str, dict]]:
    """Where the placement signals a description names put it on the Totus series (placement.place)."""
    from .placement import place

    template = (focus.situation.get("stage") or {}).get(lang)
    signals = [c["id"] for c in question.situation if c.get("signal")]
    if focus.placement is None or not template or not signals:
        return []
    placed = place(focus.placement, signals, language=lang)
    if placed.stage is None:
        return []
    stage = focus.placement.stage(placed.stage)
    label = stage["label"][lang]
    cite = focus.placement["sources"].get(stage["source"]) or {}
    return [(template.format(n=stage["number"], label=label.lower() if lang == "en" else label.lower(),
                             traits=stage["traits"][lang]), cite)]


def glick_lead(question: Question, focus: Focus, lang: str) -> tuple[list[tuple[str, dict]], str] | None:
    """Where a described arrangement sits on Glick's range: the Glick weights of the placement signals it names
    decide (a tie or too little evidence places nothing), then that type's sentences and the range's warning."""
    data = focus.situation
    spec = data.get("glick") or {}
    ranked = _glick_ranked(question.situation)
    mixed = len(ranked) > 1 and ranked[1][1] >= data.get("glick_mixed", 99)
    if mixed or len(ranked) > 1 and ranked[1][1] == ranked[0][1]:
        # "… a standard catalogue for all. Now one directorate wants something new with us. Which type fits that?":
        # the arrangement after the turn is the one asked about, when it alone places one type
        ranked = _after_turn(question, focus) or ranked
        mixed = len(ranked) > 1 and ranked[1][1] >= data.get("glick_mixed", 99)
    if not ranked or ranked[0][1] < data.get("glick_evidence", 2) or len(ranked) > 1 and ranked[1][1] == ranked[0][1]:
        return None
    if mixed and spec.get("mixed"):
        items = list(spec["mixed"]) + list(spec.get("range") or ())
        return [(item.get(lang, item["en"]), item.get("cite") or {}) for item in items], "mixed"
    kind = ranked[0][0]
    ids = {c["id"] for c in question.situation}
    key = f"{kind}_internal" if kind == "client" and "internal_service" in ids and f"{kind}_internal" in spec else kind
    items = list(spec.get(key) or ()) + list(spec.get("range") or ())
    return [(item.get(lang, item["en"]), item.get("cite") or {}) for item in items], kind


def _after_turn(question: Question, focus: Focus) -> list[tuple[str, float]]:
    """Glick scores of the signals after the description's last turn ("Now …", "Nu …") when the question sentence
    asks about that new arrangement; [] when there is no such turn or it places no single type."""
    turn, asked = focus.situation.get("turn"), focus.situation.get("asks_new")
    if not turn or not asked or not re.search(asked, last_asked(question.text), re.I):
        return []
    starts = [m.end() for m in re.finditer(turn, question.text, re.I)]
    if not starts:
        return []
    ranked = _glick_ranked(focus.signals(question.text[starts[-1]:]))
    return ranked if ranked and (len(ranked) == 1 or ranked[1][1] < ranked[0][1]) else []


def _glick_ranked(cues: list[dict]) -> list[tuple[str, float]]:
    """Glick types by the summed weights the cues give them, best first."""
    scores: dict[str, float] = {}
    for cue in cues:
        for kind, weight in (cue.get("glick") or {}).items():
            scores[kind] = scores.get(kind, 0.0) + weight
    return sorted(scores.items(), key=lambda kv: -kv[1])


_LABEL = re.compile(r"\b(word|term|label|name|relationship|type|kind|relatie|woord|benaming|etiket|soort)\b", re.I)
_CALLS = re.compile(r"\b(calls?|called|calling|labels?|labell?ed|refers? to|describes?|noem\w*|genoemd)\b", re.I)   # a label used
_ARTICLE_LEAD = re.compile(r"^(On|In|The|A|An|That|This|Op|De|Het|Een|Dat|Dit)\b")   # lowered after "No: "


def _asks_partnership_first(q: Question, focus: Focus, parties) -> bool:
    """"Is that a real partnership, or which stage are we in?": the question asks yes or no about a partnership
    before it asks which type, so the description's yes or no answers it."""
    asked = last_asked(q.text)
    head = asked[:focus.asks_type.search(asked).start()]
    return (q.polar or q.asks_yes_no) and "partner" in parties(head)


class Situations:
    """The rules answerer's answer to a described arrangement (mixed into RulesAnswerer: it uses the answerer's
    focus, vocab and _from_sentences)."""

    def _situation(self, q: Question, intents: list[str], passages: list[Passage]) -> Answer | None:
        """A described arrangement: its roles, the signs of partnership it names (or lacks), what the sources say
        about any such arrangement (corpus/focus.yaml); a yes/no question gets the verdict the description implies."""
        glick = glick_lead(q, self.focus, "en") if self._in_glicks_terms(q) else None
        if glick is not None:
            english, kind = glick
            said, _kind = glick_lead(q, self.focus, q.language)
            # the verdict is the type the description places ("are they our clients?" -> customer), and the
            # answer says yes or no to a type the question names: "… they call us their partner. Is that right?"
            # asks about the type the description named last
            in_question = self._parties_named(last_asked(q.text))
            asked = in_question or self._parties_named(q.text)[-1:]
            polar = q.asks_yes_no and not q.asks_choice and not self.focus.asks_type.search(q.text)
            verdict = kind
            if polar and len(asked) == 1 and kind != "mixed":
                yes_no = ("Yes", "No") if q.language == "en" else ("Ja", "Nee")
                first = _ARTICLE_LEAD.sub(lambda m: m.group(1).lower(), said[0][0])   # "No: on Glick's range …"
                said = [(f"{yes_no[asked[0] != kind]}: {first}", said[0][1])] + said[1:]
                # "… treat them as customers. Would Glick back that?" asks yes or no; "is that the right word?" the type
                treat = self.focus.verdict_cues.get("treat_as")
                # a question naming another type than the description places ("are they our partners?" of a
                # customer relationship) is answered no; naming the same one, by that type
                if treat is not None and treat.search(last_asked(q.text)) or (not in_question or asked[0] != kind) \
                        and not _LABEL.search(last_asked(q.text)) and not _CALLS.search(q.text):
                    verdict = "no" if asked[0] != kind else "yes"
            if kind == "mixed":   # several types at once: no single type; "should we pick one way?" is no
                single = self.focus.verdict_cues.get("single")
                verdict = "no" if q.asks_yes_no and single is not None and single.search(q.text) else None
        else:
            english, _verdict = situation_lead(q, self.focus, "en")
            said, verdict = situation_lead(q, self.focus, q.language)
            contrary = self.focus.verdict_cues.get("contrary")
            if verdict in ("yes", "no") and (reported_negative(q.text, self.focus)   # "… we can't. Is he right?"
                                             or contrary is not None and contrary.search(last_asked(q.text))):
                verdict = "no" if verdict == "yes" else "yes"   # "does the contract rule a partnership out?"
            elif verdict in ("yes", "no") and q.asks_choice:   # "their strategic partner, or still the contractor?"
                roles = [p for p in self._parties_named(last_asked(q.text)) if p != "partner"]
                verdict = "partner" if verdict == "yes" else roles[0] if len(roles) == 1 else verdict
            elif verdict in ("yes", "no") and self.focus.asks_type.search(last_asked(q.text)) \
                    and not _asks_partnership_first(q, self.focus, self._parties_named):
                verdict = "partner" if verdict == "yes" else None   # "which type is this?": a partnership, or no
                #                                                    single type (the stage sentence says which)
        # "partners or just the client?" outside Glick's terms asks whether it is a partnership: yes or no
        polar = q.asks_yes_no or q.asks_choice or bool({"yesno", "check"} & set(intents))
        # the type a "which type" question asks for (on Glick's range, or a partnership on the Totus series)
        which = glick is not None and verdict == glick[1] or glick is None and verdict == "partner"
        return self._from_sentences(q, english, said, passages, verdict if polar or which else None)

    def _parties_named(self, text: str) -> list[str]:
        """The parties (client, partner, …) a text names, in order of mention; a strategic partner is a partner
        on Glick's range."""
        lowered, at = text.lower(), {}
        for concept, _lang, _term, rx in self.vocab.patterns:
            match = rx.search(lowered) if concept in PARTIES else None
            if match:
                concept = "partner" if concept == "strategic_partner" else concept
                at[concept] = min(at.get(concept, match.start()), match.start())
        return sorted(at, key=at.get)

    def _in_glicks_terms(self, q: Question) -> bool:
        """A described arrangement asked about in Glick's terms: his name, his range, or his customer type."""
        # (an internal department serving the rest of the organisation is Glick's own setting)
        return "glick" in q.voices or any(c["id"] == "internal_service" for c in q.situation) or \
            bool({"range", "customer"} & set(self.vocab.concepts(last_asked(q.text))))
