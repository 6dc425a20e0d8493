"""Query-focused extractive composition: when no claim fits, answer from the retrieved passages' sentences.

Every sentence of every candidate passage is scored against the question (its content words and concepts,
the voice it asks about, the kind of answer it wants); the best one leads, a few more follow when they add
something (near-duplicates are dropped), each keeps a short attribution ("Bing answered that …") and cites its
passage. A polar question gets a verdict only when the leading sentence states one. Dutch questions get Dutch
framing around the quoted English sentences, with their key terms glossed from corpus/concepts.yaml."""

from __future__ import annotations

import re
from functools import lru_cache

from .claims import split_sentences
from .lang import tokens
from .question import Focus, Question, last_asked
from .result import Answer, Citation
from .stance import Scored, denying, not_for_all, read_verdict, takes_stance
from .verdicts import reported_negative
from .voicing import attribute, in_dutch
from .coverage import uncovered
from .vocab import Vocab

MAX_SENTENCES = 4
LATER_VERDICT = 2     # sentences after the lead a polar question's verdict may also be read from
DENIAL_POOL = 8      # best-scored sentences searched for one that denies the contrary a polar question asks about
PART_FLOOR = 0.4      # a sentence added for an unanswered part of the question scores at least this share of the lead
STANCE_BONUS = 1.0     # a polar question leads with a sentence that takes a stance on it, among near-equals
MEANING_WEIGHT = 8.0   # weight of the sentence-question cosine (paraphrases the words miss)
ASKED_WEIGHT = 1.5     # weight of the share of the question sentence's own words, after a premise
PARTIES = ("client", "contractor", "customer", "supplier", "partner", "strategic_partner")
# a bibliography line or reading-list entry ("Dyer and Singh (1998), The relational view, Academy of Management
# Review 23(4): …") names a work and its topic but says nothing about it: no sentence to answer with
_REFERENCE = re.compile(r"\b\d+\(\d+\)|\bdoi:|(^|\n)\s*- |\(\d{4}\)[^()]*\(\d{4}\)|\(\d{4}\),\s")


_SENTENCE_FACTS: dict = {}   # (vocab id, sentence) -> (tokens, concepts): the notes repeat across questions


_INJECTED: dict = {}   # (pattern, sentence) -> whether it addresses the assistant (a slow pattern; notes repeat)


def _injected(sentence: str, injection: re.Pattern) -> bool:
    key = (injection.pattern, sentence)
    if key not in _INJECTED:
        if len(_INJECTED) > 20_000:
            _INJECTED.clear()
        _INJECTED[key] = bool(injection.search(sentence))
    return _INJECTED[key]


def _facts(sentence: str, vocab: Vocab) -> tuple[frozenset, frozenset]:
    key = (id(vocab), sentence)
    if key not in _SENTENCE_FACTS:
        if len(_SENTENCE_FACTS) > 20_000:
            _SENTENCE_FACTS.clear()
        _SENTENCE_FACTS[key] = (frozenset(tokens(sentence)), frozenset(vocab.concepts(sentence)))
    return _SENTENCE_FACTS[key]


_SURNAME = re.compile(r"^[A-Z][a-z]{3,}$")


@lru_cache(maxsize=256)
def _surnames(author: str) -> tuple[str, ...]:
    """The surnames in a note's author field ("Jeffrey H. Dyer, Harbir Singh" -> Dyer, Singh)."""
    names = re.split(r"[,;&]|\band\b", re.sub(r"\b(et al\.?|Jr\.?)", "", author or ""))
    last = [name.split()[-1] for name in names if name.split()]
    return tuple(n for n in last if _SURNAME.match(n))


def names_author(text: str, passage) -> bool:
    """The text names one of the passage's authors (literature notes carry their authors)."""
    return any(re.search(rf"\b{n}\b", text) for n in _surnames(getattr(passage, "author", "") or ""))


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / max(1, len(a | b))


def score_sentences(question: Question, passages: list, focus: Focus, vocab: Vocab, injection: re.Pattern,
                    meaning=None) -> list[Scored]:
    """Candidate sentences, best first. meaning(sentences) -> cosines with the question (optional)."""
    words = set(question.words)
    topic = {c for c in question.concepts
             if not any(c in v.concepts for v in focus.voices)}
    voiced = [focus.voice(v) for v in question.voices if focus.voice(v)]
    # a question naming an author of the literature ("according to Gulati") hears that author's notes first
    authored = {p.chunk_id for p in passages if names_author(question.text, p)}
    any_voiced = authored or voiced and any(v.speaks(p) for v in voiced for p in passages)
    aside = [focus.voice(v) for v in question.not_voices if focus.voice(v)]
    cue = focus.type_cues.get(question.answer_type)
    # after a premise ("X keeps coming up when we discuss Y. Where does Z come from?") the question sentence decides
    asked = last_asked(question.text)
    asked_words = set(tokens(asked)) - focus.framing if asked != question.text.strip() else set()
    candidates = [(rank, passage, position, sentence) for rank, passage in enumerate(passages, 1)
                  for position, sentence in enumerate(split_sentences(passage.text) or [passage.text.strip()])
                  if not _injected(sentence, injection) and not sentence.lower().startswith("editorial note")
                  and len(sentence.split()) >= 5]   # shorter is a fragment the splitter left ("Dyer and Prashant Kale.")
    cosine = meaning([c[3] for c in candidates]) if meaning and candidates else {}
    out = []
    for rank, passage, position, sentence in candidates:
        speaks = passage.chunk_id in authored or not authored and any(v.speaks(passage) for v in voiced)
        toks, concepts = _facts(sentence, vocab)
        overlap = len(words & toks) / max(1, len(words))
        concept_share = len(topic & concepts) / max(1, len(topic))
        score = (3.0 * overlap + 1.5 * concept_share + 1.0 * passage.similarity + 0.3 / rank
                 + MEANING_WEIGHT * cosine.get(sentence, 0.0))
        if asked_words:
            score += ASKED_WEIGHT * len(asked_words & toks) / len(asked_words)
        if any_voiced:
            score += 1.2 if speaks else -0.6
        if any(v.speaks(passage) for v in aside):
            score -= 1.5
        if cue is not None and cue.search(sentence):
            score += 0.25
        if len(sentence.split()) > 60:
            score -= 0.3
        if _REFERENCE.search(sentence):
            score -= 4.0
        if sentence.rstrip().endswith("?"):   # a question the source asks (or reports) is no answer to lead with
            score -= 2.0
        if question.polar and takes_stance(question, sentence, focus):
            score += STANCE_BONUS
        out.append(Scored(score, overlap, sentence, passage, position))
    out.sort(key=lambda s: -s.score)
    return out


ECHO_WORDS = 5    # words the question repeats from a source sentence: a quote, not a coincidence
_WORDS = re.compile(r"[a-z0-9à-ÿ'-]+")


def echoed(question: str, sentence: str, n: int = ECHO_WORDS) -> bool:
    """The sentence holds a run of n words of the question (the user quotes the source: "Glick says good customer
    service happens one customer at a time. How does he …?")."""
    q, s = _WORDS.findall(question.lower()), " " + " ".join(_WORDS.findall(sentence.lower())) + " "
    return any(f" {' '.join(q[i:i + n])} " in s for i in range(len(q) - n + 1))


def select(scored: list[Scored], question: Question, focus: Focus, vocab: Vocab) -> list[Scored]:
    if not scored:
        return []
    # a question quoting a source ("who said 'take what we give you and like it', and in what context?") is
    # answered by the sentence it quotes, after the one before it in its passage (what the quote is about)
    quote = None if question.polar else next((s for s in scored if echoed(question.text, s.sentence)), None)
    lead = quote or scored[0]
    chosen = [lead]
    before = next((o for o in scored if quote is not None and o.passage.chunk_id == quote.passage.chunk_id
                   and o.position == quote.position - 1), None)
    if before is not None:
        chosen.insert(0, before)
    # a question naming two voices (a comparison) hears each of them
    for vid in question.voices[:3]:
        voice = focus.voice(vid)
        if voice and not any(voice.speaks(s.passage) for s in chosen):
            best = next((s for s in scored if voice.speaks(s.passage) and s.score >= 0.4 * lead.score), None)
            if best is not None:
                chosen.append(best)
    # each part of a two-part question ("why …, and how …?") gets its best sentence
    for part in question.parts[1:3]:
        words = set(part)
        best = max(scored, key=lambda s: len(words & set(tokens(s.sentence))) / max(1, len(words)) + 0.1 * s.score)
        if best not in chosen and words & set(tokens(best.sentence)):
            chosen.append(best)
    # a list or comparison of parties covers each party it names
    if question.answer_type in ("list", "contrast", "definition"):
        # a sentence naming every party at once ("customer, client or partner?") says what none of them is
        def about(s: Scored, concept: str) -> bool:
            named = _facts(s.sentence, vocab)[1]
            return concept in named and len(named & set(PARTIES)) <= 2
        for concept in [c for c in question.concepts if c in PARTIES][:3]:
            if not any(about(c, concept) for c in chosen):
                best = next((s for s in scored if about(s, concept) and s.score >= 0.4 * lead.score), None)
                if best is not None and len(chosen) < MAX_SENTENCES + 1:
                    chosen.append(best)
    # an explanation goes on where the leading sentence stops: the next sentence of its passage usually says what
    # the lead introduces ("Glick illustrates the difference with two purchases: …" -> what the difference is)
    if question.answer_type in ("explanation", "definition", "example", "contrast", "verdict"):
        # (the lead may close its passage: then the passage's other sentence the question chose is the one to go on)
        base = next((s for s in [lead] + scored[1:4] if s.passage.chunk_id == lead.passage.chunk_id
                     and any(o.passage.chunk_id == s.passage.chunk_id and o.position == s.position + 1 for o in scored)),
                    None) if question.answer_type == "verdict" else lead
        follow = next((s for s in scored if base is not None and s.passage.chunk_id == base.passage.chunk_id
                       and s.position == base.position + 1), None)
        if follow is not None and follow not in chosen and follow.score >= 0.3 * lead.score:
            if base not in chosen:
                chosen.append(base)
            chosen.insert(chosen.index(base) + 1, follow)
    aside = [v for v in (focus.voice(vid) for vid in question.not_voices) if v is not None]
    for cand in scored[1:]:
        if len(chosen) >= MAX_SENTENCES:
            break
        if cand in chosen or cand.score < 0.6 * lead.score or any(v.speaks(cand.passage) for v in aside):
            continue
        toks = set(tokens(cand.sentence))
        if any(_jaccard(toks, set(tokens(c.sentence))) >= 0.45 for c in chosen):
            continue
        if sum(c.passage.chunk_id == cand.passage.chunk_id for c in chosen) >= 2:
            continue
        chosen.append(cand)
    with_antecedents(chosen, scored)
    return chosen


# a sentence opening with a reference back ("That remark, linking …", "This is why …") means little without the
# sentence before it in its passage
# a sentence that only poses the question its passage goes on to answer ("Glick asks why …", "vraagt zich af of …")
_POSES = re.compile(r"^[\w' ]{0,40}\b(asks|asked|wonders|wondered|vraagt( zich af)?|vroeg( zich af)?)\s+(why|whether|if|how|"
                    r"waarom|of|hoe)\b|\?$", re.I)
POSED_ANSWER = 2          # sentences after a posed question that may answer it ...
POSED_ANSWER_WORDS = 8    # ... up to the first one this long (a shorter one is not yet the answer)
_BACK_REFERENCE = re.compile(r"^(that|this|these|those|such|dat|dit|deze|die|zo'n)\b(?! (is|are|was|were|means?|is waarom)\b)",
                             re.I)


def with_antecedents(chosen: list[Scored], scored: list[Scored], limit: int = MAX_SENTENCES + 1) -> None:
    """Puts before each chosen sentence that refers back the sentence of its passage it refers to, and after each
    sentence that only poses a question ("Glick asks why … not treat everyone as a partner") the sentences of its
    passage that answer it ("His answer is investment. Good partnerships demand …")."""
    for s in list(chosen):
        if _BACK_REFERENCE.match(s.sentence) and len(chosen) < limit:
            before = _neighbour(s, scored, -1)
            if before is not None and before not in chosen:
                chosen.insert(chosen.index(s), before)
        if _POSES.search(s.sentence):
            at = chosen.index(s)
            # (a fragment too short to be scored, "His answer is investment.", is left out; the next one answers)
            for after in filter(None, (_neighbour(s, scored, step) for step in range(1, POSED_ANSWER + 1))):
                if after in chosen:
                    break
                at += 1
                chosen.insert(at, after)
                if len(after.sentence.split()) >= POSED_ANSWER_WORDS:
                    break


def _neighbour(s: Scored, scored: list[Scored], step: int) -> Scored | None:
    return next((o for o in scored if o.passage.chunk_id == s.passage.chunk_id and o.position == s.position + step),
                None)


_VERDICT_EN = {"yes": "Yes", "no": "No", "depends": "It depends"}


def compose(question: Question, passages: list, focus: Focus, vocab: Vocab, injection: re.Pattern,
            corpus_dir: str, mode: str = "rules", meaning=None, between=None) -> Answer | None:
    scored = score_sentences(question, passages, focus, vocab, injection, meaning)
    chosen = select(scored, question, focus, vocab)
    # a lead sharing no word with the question answers something else, unless it comes from the note of an author
    # the question names (a Dutch question's words seldom meet an English note's: "volgens Dyer en Singh")
    lead = next((s for s in chosen if echoed(question.text, s.sentence)), chosen[0]) if chosen else None
    if lead is None or lead.overlap == 0 and not names_author(question.text, lead.passage):
        return None
    chosen += uncovered(question.text, [s.sentence for s in chosen], scored, PART_FLOOR * chosen[0].score, between)
    verdict = read_verdict(question, chosen[0], focus, vocab)
    if verdict is None and question.polar:
        # the lead introduces ("Gulati examines how firms choose …"); a sentence after it may state the answer
        for n, s in enumerate(chosen[1:LATER_VERDICT + 1], 1):
            verdict = read_verdict(question, s, focus, vocab)
            if verdict is not None:   # the sentence the verdict is read from leads
                chosen = [s] + chosen[:n] + chosen[n + 1:]
                break
    if verdict in ("yes", "no") and reported_negative(question.text, focus):
        verdict = "no" if verdict == "yes" else "yes"   # "ChatGPT said you can't …. Klopt dat?" - it said you can
    evidence = focus.verdict_cues.get("evidence")
    if verdict is None and question.polar and evidence is not None and evidence.search(question.text) \
            and chosen[0].passage.doc_id.startswith("literature/"):
        verdict = "yes"   # "is there research behind it?" answered by what verified literature finds
    if question.polar and not question.compares and not question.asks_choice \
            and not_for_all(last_asked(question.text), [s.sentence for s in chosen], focus):
        verdict = "no"   # "does Bing say they can always coexist?" answered "… but not in every case"
    if question.polar and not question.compares and not question.asks_choice:
        # "can partners do without a contract?" - "… but the contract does not disappear": no, and that leads
        pool = chosen + [s for s in scored[:DENIAL_POOL] if s not in chosen]
        denial = denying(last_asked(question.text), [s.sentence for s in pool], focus)
        if denial is not None:
            lead = next(s for s in pool if s.sentence == denial)
            chosen = ([lead] + [s for s in chosen if s is not lead])[:max(len(chosen), 2)]
            verdict = "no"
    citations: dict[str, Citation] = {}
    for s in chosen:
        if s.passage.chunk_id not in citations:
            citations[s.passage.chunk_id] = Citation.from_passage(len(citations) + 1, s.passage)
    if question.language == "nl":
        text = in_dutch(chosen, citations, verdict, focus, vocab, corpus_dir)
        notices = [focus.dutch.get("notice", "")]
    else:
        parts = []
        for i, s in enumerate(chosen):
            sentence = attribute(s.sentence, s.passage, focus)
            if i == 0 and verdict:
                sentence = f"{_VERDICT_EN[verdict]}: {sentence}"
            parts.append(f"{sentence} [{citations[s.passage.chunk_id].marker}]")
        text = " ".join(parts)
        notices = ["No curated claim answers this exactly; this answer is composed from the passages' sentences."]
    return Answer(text=text, citations=list(citations.values()), mode=mode, verdict=verdict,
                  notices=[n for n in notices if n], language=question.language)


# --- helpers the claim path shares ------------------------------------------------------------------------

def cite_pairs(pairs: list[tuple[str, object]]) -> tuple[str, list[Citation]]:
    """'sentence [n]' text and the numbered citations, one per distinct passage in order of first use."""
    citations: dict[str, Citation] = {}
    parts = []
    for say, passage in pairs:
        if passage.chunk_id not in citations:
            citations[passage.chunk_id] = Citation.from_passage(len(citations) + 1, passage)
        parts.append(f"{say} [{citations[passage.chunk_id].marker}]")
    return " ".join(parts), list(citations.values())
