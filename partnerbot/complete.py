"""An answer completed from the retrieved passages for what the question asks and the answer leaves out.

A claim (or a described situation) answers the question's topic; a question often also names the point it is
after: an ITIL role, a contract form, a letter of RA(S)CI, a company. Those are the question's subject words
(names, acronyms, quoted terms, the concept map's terms) that are rare in the store. When the answer's sentences
contain none of such a word, the retrieved passages' best sentence that does — and that still answers the
question as a whole — is added after the answer, attributed to its voice and cited like a composed sentence.
Verbs and other everyday words of a question never call for a sentence ("how did the terms *move*"). When no such
word is missing, the passages' best sentence for the question is added if the answer says nothing like it."""

from __future__ import annotations

import re

from .compose import _facts, _jaccard, echoed, score_sentences, with_antecedents
from .coverage import uncovered
from .lang import tokens
from .question import Focus, Question, last_asked
from .stance import Scored
from .vocab import Vocab
from .voicing import _voice_label, attribute

MIN_IDF = 2.3        # a word used by at most ~10% of the chunks is one a question asks about on purpose
MIN_GAIN = 2.3       # the added sentence must bring at least one such word
RELEVANCE = 0.55     # ... and score at least this share of the best sentence for the whole question
MAX_ADDED = 2
WHEN_RELEVANCE = 0.35   # the share of the best sentence's score a sentence dating the asked thing needs
SAID_ALIKE = 0.45   # word overlap (Jaccard) at which a sentence says what the answer already says
NEW_SHARE = 0.5    # share of its words a best sentence must add to the answer's to be added
UNSAID_POOL = 4    # best sentences looked at for a point the answer leaves out ...
UNSAID_SHARE = 0.75  # ... scoring at least this share of the best one; at most MAX_UNSAID, from different passages
MAX_UNSAID = 3
QUOTED_AI = ("chatgpt", "bing")


_NAME = re.compile(r"(?<=[\w,;:] )[A-Z][\w'-]*|\b[A-Z0-9]{2,}[\w()-]*|[\"“‘'](?P<quoted>[^\"”’']{2,40})[\"”’']")


def subject_words(text: str, vocab: Vocab, said_concepts: set) -> list[str]:
    """The words of a question that name what it is about: names and acronyms (DBFM, Rijkswaterstaat, ITIL),
    quoted terms, and the terms of the concept map it uses (escalation, purchasing portfolio, IT shop) for
    concepts the answer does not already name (however it words them)."""
    found = [m.group("quoted") or m.group(0) for m in _NAME.finditer(text)]
    lowered = text.lower()
    found += [term for concept, _lang, term, rx in vocab.patterns if concept not in said_concepts and rx.search(lowered)]
    return tokens(" ".join(found))


def wanted_words(q: Question, said: list[str], focus: Focus, vocab: Vocab, rarity) -> dict[str, float]:
    """The question's rare subject words (word -> idf) that none of the said sentences contains: its names,
    quoted terms and concept terms (subject_words), and the English renderings of its Dutch terms, unless the
    answer already names that concept; never the names of the voices it asks about nor the words that only phrase
    the question (focus.yaml framing_words)."""
    names = {t for v in focus.voices for n in v.names + tuple(v.who.values()) for t in tokens(n)}
    said_text = " ".join(said)
    said_concepts = {c for sentence in said for c in _facts(sentence, vocab)[1]}
    lowered = q.text.lower()
    # Dutch concept terms count by their English renderings (the everyday words of dutch_terms do not, as in English)
    rendered_terms = [vocab.english[c] for c, lang, _term, rx in vocab.patterns
                      if lang == "nl" and c not in said_concepts and rx.search(lowered)]
    words = subject_words(q.text, vocab, said_concepts) + tokens(" ".join(rendered_terms))
    rare = rarity([w for w in dict.fromkeys(words) if w not in names and w not in focus.framing])
    said_tokens = set(tokens(said_text))
    return {w: idf for w, idf in rare.items() if idf >= MIN_IDF and w not in said_tokens}


def completion(q: Question, said: list[str], passages: list, focus: Focus, vocab: Vocab, injection: re.Pattern,
               rarity, meaning=None, between=None) -> list[Scored]:
    """Up to MAX_ADDED sentences of the passages that cover the question's rare words the answer lacks, and, for
    a question asking what to do, the passages' best advice when the answer gives none (for one asking when or how
    long, the sentence dating what it names that the answer leaves out); a sentence the question
    quotes (echoed) comes with the sentence that follows it, where the source goes on to the point asked."""
    wanted = wanted_words(q, said, focus, vocab, rarity)
    cue = focus.type_cues.get("advice") if q.answer_type == "advice" else None
    wants_kind = cue is not None and not any(cue.search(s) for s in said)
    asks_when = focus.type_cues.get("asks_when")
    new_word = None
    if cue is None and asks_when is not None and asks_when.search(last_asked(q.text)):
        # "how long did the construction take?": a sentence that dates what the question names and the answer
        # does not (the answer may date something else: the contract's signing)
        cue, wants_kind = focus.type_cues.get("when"), True
        unsaid = set(q.words) - set(tokens(" ".join(said)))
        # (not what a chatbot claimed: a date it gave is no fact)
        new_word = lambda c: bool(unsaid & set(tokens(c.sentence))) and getattr(c.passage, "voice", None) not in \
            QUOTED_AI and not set(QUOTED_AI) & set(tokens(c.sentence))
    said_text = " ".join(said).lower()
    quoted = [p for p in passages if echoed(q.text, p.text)] if not echoed(q.text, said_text) else []
    if not passages:
        return []
    scored = score_sentences(q, passages, focus, vocab, injection, meaning)
    if not scored:
        return []
    floor = RELEVANCE * scored[0].score
    if not (wanted or wants_kind or quoted):
        return _with_parts(q, said, _best_unsaid(scored, said), scored, floor, between)
    taken = [set(tokens(s)) for s in said]
    said_set = {" ".join(s.split()) for s in said}
    added: list[Scored] = []
    echo = next((c for c in scored if c.passage in quoted and echoed(q.text, c.sentence)), None)
    if echo is not None:
        # the sentence after it, or, when the quote closes its passage, the one before (the point it sums up)
        near = [next((c for c in scored if c.passage is echo.passage and c.position == echo.position + step), None)
                for step in (1, -1)]
        follow = near[0] or near[1]
        pair = [echo, follow] if follow is near[0] else [follow, echo]
        added += [c for c in pair if c is not None and c.sentence not in said_set]
        taken += [set(tokens(c.sentence)) for c in added]
    if wants_kind:   # "how should we deal with …?" answered by what happened, not what to do (or "when?" undated)
        # (a dating sentence often leaves its subject to the one before it: a lower bar, with the cue and the word)
        bar = floor if new_word is None else WHEN_RELEVANCE * scored[0].score
        kind = next((c for c in scored if c.score >= bar and cue.search(c.sentence) and c.sentence not in said_set
                     and (new_word is None or new_word(c))
                     and not any(_jaccard(set(tokens(c.sentence)), other) >= SAID_ALIKE for other in taken)), None)
        if kind is not None:
            added.append(kind)
            taken.append(set(tokens(kind.sentence)))
    while wanted and len(added) < MAX_ADDED + (echo is not None):
        best, best_gain = None, 0.0
        for cand in scored:
            if cand.score < floor:
                break
            toks = set(tokens(cand.sentence))
            gain = sum(idf for w, idf in wanted.items() if w in toks)
            if gain < MIN_GAIN or gain <= best_gain or cand.sentence in said_set or cand in added:
                continue
            if any(_jaccard(toks, other) >= SAID_ALIKE for other in taken):
                continue
            best, best_gain = cand, gain
        if best is None:
            break
        added.append(best)
        toks = set(tokens(best.sentence))
        taken.append(toks)
        wanted = {w: idf for w, idf in wanted.items() if w not in toks}
    return _with_parts(q, said, added or _best_unsaid(scored, said), scored, floor, between)


def _with_parts(q: Question, said: list[str], added: list[Scored], scored: list[Scored], floor: float,
                between) -> list[Scored]:
    """The added sentences and, after them, one for a part of the question still unanswered (coverage.py)."""
    added = added + uncovered(q.text, said + [s.sentence for s in added], scored, floor, between)
    with_antecedents(added, [s for s in scored if s.sentence not in said], limit=len(added) + MAX_ADDED)
    return added


def _best_unsaid(scored: list[Scored], said: list[str]) -> list[Scored]:
    """The passages' best sentences for the question as a whole (near the best, from different passages), when the
    answer says nothing like them: a claim written for a neighbouring question often leaves out the very point
    the best passages make. Never a quoted chatbot's sentence (a claim frames those; on its own it would read as a
    fact)."""
    out: list[Scored] = []
    said_toks = set(tokens(" ".join(said)))
    for best in scored[:UNSAID_POOL]:
        if getattr(best.passage, "voice", None) in QUOTED_AI or any(o.passage is best.passage for o in out):
            continue
        toks = set(tokens(best.sentence))
        if len(toks - said_toks) >= NEW_SHARE * len(toks) and best.score >= UNSAID_SHARE * scored[0].score:
            out.append(best)
            said_toks |= toks
        if len(out) == MAX_UNSAID:
            break
    return out


def rendered(s: Scored, focus: Focus, lang: str) -> str:
    """An added sentence as the answer says it: attributed in English; quoted with its voice in a Dutch answer."""
    if lang == "nl":
        _prefix, who, _names = _voice_label(s.passage, focus, "nl")
        return focus.dutch.get("quote_lead", "{who}:").format(who=who) + f" “{s.sentence}”"
    return attribute(s.sentence, s.passage, focus)
