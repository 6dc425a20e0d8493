"""Answers joined from several claims, a mixin of the rules answerer (rules.py): a question in two parts whose
parts belong to different claims, and a comparison of voices that hears each voice's own claim."""

from __future__ import annotations

from dataclasses import replace

from .claims import Claim
from .compose import PARTIES, cite_pairs
from .cover import concepts_of
from .question import _PARTS, Question, asked_voices, detect_intents
from .result import Answer
from .retrieval import Passage


class JoinedClaims:
    """Needs the answerer's match_claim, _claim_fits, _claim_speaks, _claim_pairs, _completed, focus and vocab."""

    def _by_parts(self, q: Question, intents: list[str], passages: list[Passage], whole: Claim | None) -> Answer | None:
        """A two-part question whose parts belong to different claims ("what are the stages, and why is the client
        left out?"): each part's claim (matched on the part's own concepts, with the voices the whole question
        names as context), their sentences joined in the order of the parts, citations numbered anew."""
        pieces = [p for p in _PARTS.split(q.text) if p and len(p.split()) >= 3]
        if len(pieces) < 2:
            return None
        context = [c for c in q.concepts if any(c in v.concepts for v in self.focus.voices)]
        claims: list[Claim] = []
        said = {c for item in (whole.sentences["en"] if whole else ()) for c in concepts_of(item["say"], self.vocab)}
        voiced = {c for v in self.focus.voices for c in v.concepts}
        topics = [c for c in q.concepts if c not in PARTIES and c not in voiced]
        answered = 0   # parts some claim answers (the same claim may answer several)
        for piece in pieces[:3]:
            concepts = list(dict.fromkeys(self.vocab.concepts(piece) + context))
            if not any(c not in PARTIES and c not in voiced for c in concepts):
                concepts += [c for c in topics if c not in concepts]   # "…, and which letter …": of RA(S)CI
            own = detect_intents(piece)
            part_intents = own or intents
            claim = self.match_claim(piece, concepts, part_intents)
            if whole is not None and (whole.score(concepts, part_intents, piece) is not None or not own and set(
                    concepts) <= said):
                claim = whole   # the whole question's claim answers this part too (it names what the part asks)
            # the voice a part names is the voice that part asks about ("what do the letters stand for, and what
            # did the author say …": the first part is a definition, in no one's voice)
            voices, aside = asked_voices(piece, self.vocab, self.focus)
            if claim is None or not self._claim_fits(claim, replace(q, voices=voices, not_voices=aside), anywhere=True):
                continue
            answered += 1
            if claim not in claims:
                claims.append(claim)
        if len(claims) == 1 and answered == len(pieces[:3]):   # one claim answers every part, each in its voice
            return self._from_claim(q, claims[0], intents, passages)
        if len(claims) < 2 or whole is not None and whole not in claims and whole.score(q.concepts, intents, q.text) \
                > max(c.score(q.concepts, intents, q.text) or -99 for c in claims):
            return None
        return self._joined(q, claims, intents, passages)

    def _by_voices(self, q: Question, intents: list[str], passages: list[Passage]) -> Answer | None:
        """A comparison of voices ("compare ChatGPT's and Bing's answers on …", "do both articles mean the same by
        client?"): for each voice named, the best claim on the question's topic that speaks in that voice (matched
        without the other voices' concepts), joined in the order the voices are named."""
        if len(q.voices) < 2 or q.answer_type != "contrast" and "contrast" not in intents and not q.compares:
            return None
        claims: list[Claim] = []
        for vid in q.voices[:3]:
            voice = self.focus.voice(vid)
            others = {c for v in self.focus.voices if v.id != vid for c in v.concepts}
            concepts = [c for c in q.concepts if c not in others] + [c for c in (voice.concepts if voice else ())
                                                                     if c not in q.concepts]
            claim = self.match_claim(q.text, concepts, intents,
                                     accept=lambda c, vid=vid: self._claim_speaks(c, [vid], lead_only=True))
            if voice is None or claim is None or claim in claims:
                continue
            claims.append(claim)
        if len(claims) < 2:
            return None
        # no verdict: one voice's claim does not settle whether the voices agree
        return self._joined(replace(q, answer_type="contrast"), claims, [i for i in intents if i not in ("yesno", "check")],
                            passages)

    def _joined(self, q: Question, claims: list[Claim], intents: list[str], passages: list[Passage]) -> Answer | None:
        """The sentences of several claims in order, citations numbered anew; the verdict is the first claim's."""
        pairs, verdict, notices, lang, english = [], None, [], q.language, []
        for n, claim in enumerate(claims):
            got = self._claim_pairs(q, claim, intents if n == 0 else [i for i in intents if i not in ("yesno", "check")],
                                    passages)
            if got is None:
                return None
            said, claim_verdict, claim_notices, lang, claim_english = got
            verdict = claim_verdict if n == 0 else verdict
            notices += [x for x in claim_notices if x not in notices]
            pairs += [pair for pair in said if pair[0] not in {s for s, _p in pairs}]
            english += claim_english
        text, citations = cite_pairs(self._completed(q, pairs, english, passages, lang))
        return Answer(text=text, citations=citations, mode=self.mode, verdict=verdict, notices=notices,
                      language=lang, claim_id="+".join(c.id for c in claims))
