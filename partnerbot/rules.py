"""The deterministic rules answerer: intent + concepts → a claim from corpus/claims.yaml, cited sentence by
sentence; otherwise an extractive answer from the best passages; otherwise an honest refusal. No network."""

from __future__ import annotations

import re
from dataclasses import replace

from .attribution import Ascriptions, checked_speaker, reopened, speaker_answered
from .claims import POLAR_VERDICTS, Claim, load_claims, support
from .cover import covering_sentences
from .compose import PARTIES, cite_pairs, compose, echoed, names_author
from .situation import Situations
from .kraljic import kraljic_lead
from .complete import completion, rendered
from .verdicts import adjusted, asked_first, lead, named_first, named_verdict, naming_at, telling_first, without_lead
from .joined import JoinedClaims
from .lang import NAME
from .meaning import Meaning
from .premise import corrected, taken_for_granted
from .question import (INTENTS, Question, asks_to_state, detect_intents, last_asked, load_focus,  # noqa: F401 (re-exported)
                       understand, without_asides)
from .injection import INJECTION as _INJECTION, strip_injection  # noqa: F401 (strip_injection re-exported)
from .result import Answer, History, history_turns
from .followup import rewrite
from .retrieval import Passage, Retriever, get_retriever, validate_question
from .scope import off_topic_question, refusal, unfamiliar, unknown_focus, unknown_name
from .settings import Settings
from .vocab import Vocab

TOPIC_PENALTY = 6   # on top of claims.py's 2 for any concept a claim leaves out: a left-out topic weighs more
ADVICE_QUERY = "proposes recommends remedy advice solution"   # added to a what-to-do question's second search
COMPOSE_K = 8   # passages a composed answer may draw its sentences from
VOICE_K = 40    # how far a search reaches for passages in the voice a question names
VOICE_MIN = 3   # passages in that voice a composed answer should be able to choose from (up to 4 more are added)
VOICE_LABEL = {"author": "the article's author", "chatgpt": "a quoted ChatGPT answer", "bing": "a quoted Bing answer",
               "reader": "a reader's comment", "literature": "a literature note", "document": "your document"}


class RulesAnswerer(JoinedClaims, Situations):
    mode = "rules"

    def __init__(self, settings: Settings, retriever: Retriever | None = None):
        self.settings = settings
        self.retriever = retriever or get_retriever(settings)
        self.vocab: Vocab = self.retriever.vocab
        self.claims = load_claims(str(settings.corpus_dir))
        self.focus = load_focus(str(settings.corpus_dir))
        self.meaning = Meaning(lambda: self.retriever.store.embedder)
        self._misascribed = Ascriptions(self.retriever, self.focus, self.vocab)

    # --- public ---------------------------------------------------------------------------------------
    def answer(self, question: str, history: History = ()) -> Answer:
        return self._answer(question, history)

    def _answer(self, question: str, history: History = (), check: bool = True) -> Answer:
        """The answer; with check, a view of a source the question takes for granted is checked first."""
        question = validate_question(question, self.settings)
        lang = self.vocab.language(question)
        cleaned, injected = strip_injection(question)
        standalone = rewrite(cleaned, history_turns(history), self.vocab) if cleaned else None
        asked, injected_before = strip_injection(standalone or cleaned)  # history can carry instructions too
        injected = injected or injected_before
        asked = without_asides(asked, self.focus) if asked else asked
        notices = ["Instructions inside questions are ignored; partnerbot only answers from its sources."] if injected else []
        result = None
        concepts = self.vocab.concepts(asked) if asked else []
        off_topic = off_topic_question(cleaned, self.vocab)
        # English only: the notes are English, so most Dutch words are unknown to them ("Welke drie soorten…")
        unknown = unknown_focus(asked, self.retriever, self.vocab) if asked and not off_topic and lang == "en" else None
        if unknown:
            result = self._false_premise(asked, lang) or refusal(lang, injected, self.mode, unknown)
        elif asked and not off_topic:
            intents = detect_intents(asked)
            question_ = understand(asked, self.vocab, self.focus, intents)
            question_.language = lang
            question_.injected = injected
            # a name no source mentions, in the question sentence of a question that describes no arrangement
            # of the asker's ("Is Salesforce or HubSpot better for …?"): the sources cannot speak to it
            name = None if question_.situation else unknown_name(last_asked(asked), self.retriever, self.vocab)
            if name is not None:
                result = self._false_premise(asked, lang) or refusal(lang, injected, self.mode, name)
                return self._finished(result, standalone, notices)
            if question_.polar and "yesno" not in intents:   # "… . Is that really so?" is a yes/no question too
                intents = intents + ["yesno"]
            if question_.asks_choice:   # "are they customers or clients?" asks which, not yes or no
                intents = [i for i in intents if i != "yesno"]
            found = self.retriever.search(asked, k=max(self.settings.top_k, COMPOSE_K))
            # practical advice (law, tax, prices) only from a document of the user's that speaks to it
            # (asked in the question sentence: "… we deliver and invoice. What would have to change?" is not)
            practical = self.focus.practical.search(last_asked(cleaned)) and not any(p.voice == "document" for p in found.passages[:3])
            # a question that names none of the topics is in scope when it names an author of the sources
            # ("welke drie manieren noemen Doz en Hamel?"), or when its passages are close and its words known
            # (or when it quotes one of them: "who wrote 'take what we give you and like it'?")
            known = concepts or any(names_author(asked, p) or echoed(asked, p.text)
                                    for p in found.passages[:COMPOSE_K]) or (
                found.best_similarity >= self.settings.min_similarity_no_concept and not unfamiliar(asked, lang, self.retriever))
            if not practical and known:
                # a view ascribed to a voice that never speaks of its topic: answered from the voices that do
                ascribed = self._misascribed(question_)
                if ascribed is not None:
                    question_ = replace(question_, voices=[], not_voices=sorted({*question_.not_voices, ascribed[0].id}))
                # "was it ChatGPT that …?" is answered by whoever said it, found without preferring ChatGPT
                checked = checked_speaker(last_asked(asked), self.focus) if question_.polar or question_.asks_yes_no \
                    else None
                if checked is not None:
                    question_ = replace(question_, voices=[], not_voices=[],
                                        concepts=[c for c in question_.concepts if c not in checked.concepts])
                result = self._choose(question_, intents, found.passages, injected)
                if ascribed is not None and result is not None and not result.refused:
                    reopened(result, ascribed, question_.polar or question_.asks_yes_no)
                elif checked is not None and result is not None and not result.refused:
                    speaker_answered(result, checked, self.focus)
                elif check and result is not None and not result.refused and result.verdict != "not-established":
                    polar = question_.polar or question_.asks_yes_no
                    result = self._premise_denied(asked, lang, polar) or result
        if result is None:
            result = refusal(lang, injected, self.mode)
        return self._finished(result, standalone, notices)

    def _false_premise(self, asked: str, lang: str) -> Answer | None:
        """The correction of a false premise a claim is written for ("the Heijmans partnership on the A12: which
        CO2 KPIs did they use?"), for a question refused for a detail no source names: the detail is beyond the
        sources, but what the question takes for granted is wrong, and that is the answer a user needs. (A
        practical question, on revenue or law, asks for facts of the world and is still refused.)"""
        if self.focus.practical.search(last_asked(asked)):
            return None
        intents = detect_intents(asked)
        claim = self.match_claim(asked, intents=intents, accept=lambda c: c.premise_verdict is not None and
                                 c.verdict_for(asked, intents) == c.premise_verdict)
        if claim is None:
            return None
        q = understand(asked, self.vocab, self.focus, intents)
        q.language = lang
        return self._from_claim(q, claim, intents, self.retriever.search(asked, k=self.settings.top_k).passages)

    def _premise_denied(self, asked: str, lang: str, polar: bool) -> Answer | None:
        """The answer correcting what the question takes for granted about a source, when a claim that states its
        own verdict answers the premise no ("Given that ITIL defines client and contractor, where …?")."""
        premise = taken_for_granted(asked, lang, self.focus, self.vocab, polar)
        if premise is None:
            return None
        checked = self._answer(premise, check=False)
        claim = next((c for c in self.claims if c.id == checked.claim_id), None)
        return corrected(premise, checked, claim, self.focus, self.vocab,
                         lambda voices: self._claim_speaks(claim, voices, lead_only=True))

    @staticmethod
    def _finished(result: Answer, standalone: str | None, notices: list[str]) -> Answer:
        result.rewritten_question = standalone
        result.notices = notices + result.notices
        return result

    # --- strategies -------------------------------------------------------------------------------------
    def match_claim(self, question: str, concepts: list[str] | None = None, intents: list[str] | None = None,
                    accept=None) -> Claim | None:
        """The best-scoring claim for the question (among those `accept` takes, if given), or None."""
        concepts = self.vocab.concepts(question) if concepts is None else concepts
        intents = detect_intents(question) if intents is None else intents
        topics = self._topics(concepts)
        best, best_score = None, None
        for claim in self.claims:
            score = claim.score(concepts, intents, question)
            if score is None or accept is not None and not accept(claim):
                continue
            # a claim that leaves out the question's topic (RA(S)CI, escalation, ITIL …) answers something else,
            # however many of its parties it names
            score -= TOPIC_PENALTY * sum(c not in claim.concepts and c not in claim.neutral and c not in claim.context
                                         for c in topics)
            if best_score is None or score > best_score:
                best, best_score = claim, score
        return best

    def _topics(self, concepts: list[str]) -> list[str]:
        """What a question is about beyond the parties and the voices it names; a work of the literature (Kraljic,
        the UAV-GC) is a topic as well as a voice: a claim leaving it out answers something else."""
        voiced = {c for v in self.focus.voices if v.id != "literature" for c in v.concepts}
        return [c for c in concepts if c not in PARTIES and c not in voiced]

    def _choose(self, q: Question, intents: list[str], passages: list[Passage], injected: bool) -> Answer | None:
        """A claim when one fits the question's focus; otherwise an answer composed from the passages."""
        placed = kraljic_lead(q, self.focus, "en")
        if placed is not None:   # purchases described in Kraljic's terms (cheap, scarce, decisive for the margin …)
            said, verdict = kraljic_lead(q, self.focus, q.language)
            polar = q.polar or q.asks_yes_no or bool({"yesno", "check"} & set(intents))
            return self._from_sentences(q, placed[0], said, passages, verdict if polar else None)
        if q.is_situation:
            return self._situation(q, intents, passages)
        claim = self.match_claim(q.text, q.concepts, intents)
        cue = self.focus.verdict_cues.get("proposes")
        if q.answer_type == "advice" and cue is not None:   # what to do: a claim that proposes something
            claim = self.match_claim(q.text, q.concepts, intents, accept=lambda c: any(
                cue.search(item["say"]) for item in c.sentences["en"])) or claim
        # a question naming an author of the literature ("someone mumbled 'Gulati' at me") is about that author's
        # work: a claim that neither cites nor names the author gives way to one that does, or to an answer
        # composed from the passages (a person's name: Rijkswaterstaat is what questions are about, not only an author)
        authored = [p for p in passages[:COMPOSE_K] if p.doc_id.startswith("literature/") and len(p.author.split()) > 1
                    and names_author(q.text, p)]
        if claim is not None and authored and not self._about_author(claim, authored):
            claim = self.match_claim(q.text, q.concepts, intents, accept=lambda c: self._about_author(c, authored))
            if claim is None:
                return self._composed(q, None, intents, passages, injected)
        # a claim written about all the voices a comparison names answers it; otherwise each voice's own claim
        both = claim is not None and all(self._claim_speaks(claim, [vid]) for vid in q.voices)
        joined = (None if both else self._by_voices(q, intents, passages)) or self._by_parts(q, intents, passages, claim)
        if joined is not None:
            return joined
        if claim is not None and not self._claim_fits(claim, q):
            # the best claim in the voice the question names, when it is about a topic the question names (the
            # UAV-GC note for "are the parties to a UAV-GC contract strategic partners?")
            fitting = self.match_claim(q.text, q.concepts, intents, accept=lambda c: self._claim_fits(c, q))
            topics = set(self._topics(q.concepts)) - {"literature"}
            claim = fitting if fitting is not None and topics & fitting.concepts else claim
        if claim is not None and self._claim_fits(claim, q):
            answer = self._from_claim(q, claim, intents, passages)
            if answer is not None:
                return answer
        return self._composed(q, claim, intents, passages, injected)

    def _composed(self, q: Question, claim: Claim | None, intents: list[str], passages: list[Passage],
                  injected: bool) -> Answer | None:
        """An answer composed from the passages (the claim's, when nothing can be composed)."""
        # (a passage the question quotes is evidence however far its other words are from the question's)
        strong = [p for p in passages if p.similarity >= self.settings.min_similarity or echoed(q.text, p.text)]
        strong += self._voice_passages(q, strong)
        if injected or not strong:
            return self._from_claim(q, claim, intents, passages) if claim is not None else None
        composed = compose(q, strong, self.focus, self.vocab, _INJECTION, str(self.settings.corpus_dir), self.mode,
                           lambda sentences: self.meaning(q.text, sentences), self.meaning.between)
        if composed is None and claim is not None:
            return self._from_claim(q, claim, intents, passages)
        return composed

    @staticmethod
    def _about_author(claim: Claim, authored: list[Passage]) -> bool:
        """The claim cites one of these authors' notes, or names one of them ("Dyer and Kale's handbook")."""
        said = " ".join(item["say"] for item in claim.sentences["en"])
        return any(item.get("cite") == p.doc_id for item in claim.sentences["en"] for p in authored) \
            or any(names_author(said, p) for p in authored)

    def _voice_passages(self, q: Question, strong: list[Passage]) -> list[Passage]:
        """For each voice the question names that none of the best passages speaks in, that voice's best passages
        from a wider search (a question about the literature, not about what ChatGPT said of it; a comparison of
        two voices hears both)."""
        voices = [v for v in (self.focus.voice(vid) for vid in q.voices) if v is not None]
        missing = [v for v in voices if sum(v.speaks(p) for p in strong) < VOICE_MIN]
        # a name after the first word may be an author of the literature ("what does Koppenjan say …?")
        named = NAME.search(q.text) is not None and not any(names_author(q.text, p) for p in strong)
        if not missing and not named:
            return []
        wider = self.retriever.search(q.text, k=VOICE_K).passages
        # (a named author's passage needs no similarity: BM25 alone may have found it by the name)
        known = {p.chunk_id for p in strong}
        return [p for p in wider if p.chunk_id not in known and (
            any(v.speaks(p) for v in missing) and p.similarity >= self.settings.min_similarity
            or named and names_author(q.text, p))][:4]

    def _claim_fits(self, claim: Claim, q: Question, anywhere: bool = False) -> bool:
        """Evidence that a claim answers this question's focus: it leads with the voice the question names (or
        is about it; for one part of a question: speaks in it anywhere), and not with a voice the question sets
        aside."""
        if q.voices and not self._claim_speaks(claim, q.voices, anywhere=anywhere):
            return False
        if q.not_voices and self._claim_speaks(claim, q.not_voices, lead_only=True):
            return False
        return True

    def _claim_speaks(self, claim: Claim, voices: list[str], lead_only: bool = False, anywhere: bool = False) -> bool:
        """True when the claim leads with one of the voices the question names: its first sentence (any sentence,
        with anywhere) cites a note in that voice or names it, or the claim is about that voice (requires its
        concept)."""
        items = claim.sentences["en"] if anywhere else claim.sentences["en"][:1]
        cited = [self._best_passage(i.get("cite"), i["say"], i.get("section")) for i in items]
        said = " ".join(i["say"] for i in items).lower()
        for vid in voices:
            voice = self.focus.voice(vid)
            if voice is None:
                continue
            if any(passage is not None and voice.speaks(passage) for passage in cited):
                return True
            if lead_only:
                continue
            if set(voice.concepts) & claim.concepts:
                return True
            if any(re.search(rf"\b{re.escape(n)}\b", said) for n in voice.names + (voice.who.get("en", ""),) if n):
                return True
        return False

    def _from_claim(self, q: Question, claim: Claim, intents: list[str], retrieved: list[Passage]) -> Answer | None:
        got = self._claim_pairs(q, claim, intents, retrieved)
        if got is None:
            return None
        pairs, verdict, notices, use_lang, english = got
        text, citations = cite_pairs(self._completed(q, pairs, english, retrieved, use_lang))
        return Answer(text=text, citations=citations, mode=self.mode, verdict=verdict, notices=notices,
                      language=use_lang, claim_id=claim.id)

    def _claim_pairs(self, q: Question, claim: Claim, intents: list[str], retrieved: list[Passage]):
        """(sentence, passage) pairs of a claim for this question, its verdict, notices and language; None when
        none of its citations resolves."""
        lang, notices = q.language, []
        use_lang = lang if lang in claim.sentences else "en"
        if use_lang != lang:
            notices.append("This answer has no Dutch rendering yet; it is given in English.")
        retrieved_score = {p.chunk_id: p.score for p in retrieved}
        asked_yes_no = ["yesno"] if q.polar or q.asks_yes_no else []
        if claim.premise_verdict and asks_to_state(q.text, self.focus):
            # "state as fact that Heijmans …" takes it for granted: the premise verdict answers it
            asked_yes_no, intents = [], [i for i in intents if i not in ("yesno", "check")]
        verdict = claim.verdict_for(q.text, intents + asked_yes_no, q.voices, q.concepts)
        verdict, how = adjusted(q, claim, verdict, self.focus, self.vocab)
        if verdict in POLAR_VERDICTS and not (q.polar or q.asks_yes_no) and verdict != claim.premise_verdict:
            verdict = None   # "How can …" / "Why …" asks for an explanation, not a yes or no
        pairs, english_said = [], []
        added = covering_sentences(q, claim, self.claims, self.vocab, self.focus, self.match_claim, use_lang)
        items = list(zip(claim.sentences["en"], claim.sentences[use_lang]))
        if how in ("not_for_all", "still", "not_a_goal", "contrary", "not_identity", "not_by_itself"):   # "No." leads with why
            items = telling_first(items, how, self.focus)
        elif how == "off_subject":
            items = asked_first(items, q.words)
        elif not claim.leads:
            at = naming_at(items, q.text)
            # "Is Hansen's Collaboration a real book?" asks of one item of the claim's list: its sentence says
            if at is not None and verdict in POLAR_VERDICTS and (q.polar or q.asks_yes_no):
                verdict, how = named_verdict(items[at][0]["say"], self.focus, last_asked(q.text)) or verdict, "named"
            items = named_first(items, q.text)
        for n, (english, item) in enumerate(items + added):
            passage = self._best_passage(item.get("cite") or english.get("cite"), english["say"],
                                         english.get("section") or item.get("section"))
            if passage is None:
                continue
            passage.score = retrieved_score.get(passage.chunk_id, round(support(english["say"], passage.text), 4))
            say = item["say"].strip()
            # "How can …" / "Why …" get no "Yes."; a changed verdict replaces the claim's own lead ("Largely yes")
            if n == 0 and verdict in POLAR_VERDICTS and (claim.leads.get(use_lang) or claim.check_verdict or
                                                         how != "claim" or verdict != claim.verdict):
                say = lead(say, verdict, how, use_lang, last_asked(q.text), self.focus)
            elif n > 0 and verdict != claim.verdict:   # the claim's own lead, moved down, would contradict it
                say = without_lead(say)
            pairs.append((say, passage))
            english_said.append(english["say"])
        return (pairs, verdict, notices, use_lang, english_said) if pairs else None

    def _from_sentences(self, q: Question, english: list, said: list, passages: list[Passage],
                        verdict: str | None) -> Answer | None:
        """An answer from (sentence, cite) pairs written for the question (English, and in its language), each
        cited at the note section it names, completed from the passages."""
        pairs = []
        for (en_text, cite), (text, _cite) in zip(english, said):
            passage = self._best_passage(cite.get("note"), en_text, cite.get("section"))
            if passage is not None:
                pairs.append((text, passage))
        if not pairs:
            return None
        text, citations = cite_pairs(self._completed(q, pairs, [t for t, _c in english], passages, q.language))
        return Answer(text=text, citations=citations, mode=self.mode, verdict=verdict, language=q.language)

    def _completed(self, q: Question, pairs: list, said: list[str], passages: list[Passage], lang: str) -> list:
        """The answer's (sentence, passage) pairs plus the passages' sentences that cover what the question asks
        and the answer leaves out (complete.py)."""
        if q.injected:   # a question that carried instructions gets no more than the claim says
            return pairs
        # a passage that itself addresses the assistant is no source for another sentence
        passages = passages[:COMPOSE_K]
        if q.answer_type == "advice":   # what to do: the passages that propose something, for the same question
            known = {p.chunk_id for p in passages}
            passages += [p for p in self.retriever.search(f"{q.text} {ADVICE_QUERY}", k=COMPOSE_K).passages
                         if p.chunk_id not in known][:4]
        passages = [p for p in passages if not _INJECTION.search(p.text)]
        extra = completion(q, said + [say for say, _p in pairs], passages, self.focus, self.vocab, _INJECTION, self.retriever.rarity,
                           lambda sentences: self.meaning(q.text, sentences), self.meaning.between)
        return pairs + [(rendered(s, self.focus, lang), s.passage) for s in extra]

    def _best_passage(self, note_id: str, sentence: str, section: str | None) -> Passage | None:
        candidates = self.retriever.note_passages(note_id)
        if section:
            narrowed = [p for p in candidates if section.lower() in p.section.lower()]
            candidates = narrowed or candidates
        if not candidates:
            return None
        return max(candidates, key=lambda p: support(sentence, p.text))  # max keeps the first of equals
