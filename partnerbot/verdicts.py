"""The verdict a claim gives a yes/no question, when the question is not the one the claim was written for.

A claim carries its own verdict (claims.yaml); three kinds of question change it, using corpus/focus.yaml's
verdict_cues:
- "Does X automatically make Y?" answered by a claim that says X does not do so by itself: no.
- a question asking whether the contrary holds ("isn't it impossible to be both?"): the verdict turned round.
- a claim without a yes/no verdict of its own (an explanation) asked a yes/no question: the verdict its
  sentence closest to the question states (compose.read_verdict: an outright yes/no, a negation, a restriction
  of what the question asks about all of), else none.
"""

from __future__ import annotations

import re

from .claims import NEGATIVE, POLAR_VERDICTS, VERDICT_LEADS, Claim
from .lang import NAME, tokens
from .question import Focus, Question, last_asked
from .stance import CLAUSE, Scored, denying, not_for_all, read_verdict

_OWN_LEAD = re.compile(r"^((largely|mostly|grotendeels|grotendeels wel)\s+)?(yes|no|ja|nee)(,? (with|met) nuance)?\s*:\s*",
                       re.I)
_NOT_BY_ITSELF = {"en": "No, not by itself.", "nl": "Nee, niet vanzelf."}
_NOT_AS_SUCH = {"en": "No, not as such.", "nl": "Nee, niet als zodanig."}
_TURNED = {"yes": "no", "yes-with-nuance": "no", "no": "yes"}
_MODAL = re.compile(r"\b(can|could|may|might|possible|possibly|ever|sometimes|able|allowed|kan|kunnen|kun|mag|mogen|"
                    r"mogelijk|ooit|soms)\b", re.I)
# the question opens with "is/are/does …", also after a phrase that sets its scene ("In stage 2 of the series, is …")
_IS_START = re.compile(r"^(?:[^,?]{0,80},\s*){0,2}(is|are|was|were|does|do|did|becomes?|zijn|wordt|worden|werd)\b", re.I)
# a question opening with what, why, how …: no yes/no question, so no claim verdict answers it
WH_START = re.compile(r"^\s*(what|which|who|how|why|where|when|wat|welke?|wie|hoe|waarom|waar|wanneer)\b", re.I)
# Share of the question's words the claim sentence must share before its verdict is read as the answer (below it
# the sentence is about the topic, not about what the question asks of it).
IMPLIED_OVERLAP = 0.3
ASKED_WORDS = 4   # a question sentence of fewer content words is too short to be matched on its own
BARE_CHECK = 6   # words of a question sentence that only asks whether the premise before it holds ("Klopt dat?")
# a claim that answers with one of Glick's types ("A client relationship: …"), and the types a reported view names
_TYPED_LEAD = re.compile(r"^(?:an? |een )?(customer|client|partner|klant|cli[eë]nt)(?:relatie| relationship)\b", re.I)
RESTATED = 3   # words after a question's negation that a negated clause of the claim must share
_TAG_NEGATION = re.compile(r"(isn't|is it not|is not|aren't|doesn't|didn't|niet)\s+(it|het|dat|zo|waar|true|so|the case)\b",
                           re.I)
_UNABLE = re.compile(r"\b(unable|failed|lacks?|kon niet|niet in staat)\b", re.I)
_TURN_AFTER = re.compile(r"\b(but|maar|though|however|echter)\b", re.I)
_TYPES = re.compile(r"\b(customers?|clients?|partners?|klant(?:en)?|cli[eë]nt(?:en)?)\b", re.I)
_TYPE_OF = {"klant": "customer", "cliënt": "client", "client": "client"}


_PARTNER_KIN = frozenset({"partner", "strategic_partner"})


def verdict_subject(claim: Claim, vocab) -> frozenset:
    """What the claim's own yes/no verdict is about: the concepts every yes/no question it was written for names,
    beyond those it requires of any question ("Is a DBFM contract a strategic partnership?" -> strategic_partner)."""
    polar = [question for question in claim.questions if not WH_START.match(question)]
    if not polar:
        return frozenset()
    common = set.intersection(*(set(vocab.concepts(question)) for question in polar))
    required = {c for item in claim.requires for c in ((item,) if isinstance(item, str) else item)}
    return frozenset(common - required)


def off_subject(q: Question, claim: Claim, vocab) -> bool:
    """The question names nothing the claim's verdict is about ("Is a DBFM contractor paid on performance?" asked
    of a claim whose "no" says a DBFM contract is no strategic partnership)."""
    subject = verdict_subject(claim, vocab)
    named = set(q.concepts) | (_PARTNER_KIN if _PARTNER_KIN & set(q.concepts) else set())
    # (only a verdict on whether something is a partnership: other subjects are too loosely named to tell)
    return bool(subject) and subject <= _PARTNER_KIN and not subject & named


def adjusted(q: Question, claim: Claim, verdict: str | None, focus: Focus, vocab=None) -> tuple[str | None, str]:
    """(verdict, how): how is "claim" (unchanged), "not_by_itself", "contrary", "not_for_all" or "still" (the claim's
    sentence that says it varies, or that it is still so, then leads), "implied" or "off_subject" (the sentence on
    the asked point leads)."""
    cues = focus.verdict_cues
    asked = last_asked(q.text)
    if cues.get("verify") and cues["verify"].search(asked) and len(asked.split()) <= BARE_CHECK:
        asked = q.text   # "A colleague says ChatGPT called every contractor a partner by itself. Right?" checks that
    said = " ".join(item["say"] for item in claim.sentences["en"])
    if verdict in POLAR_VERDICTS and vocab is not None and (q.polar or q.asks_yes_no) and off_subject(q, claim, vocab):
        return implied_verdict(q, claim, focus), "off_subject"   # what its sentence on the asked point says, if any
    if verdict in POLAR_VERDICTS:
        # "Did ChatGPT admit it could not name any sources?" restates what the claim denies ("No: it was unable to
        # cite specific sources"): what the question asks is so
        if verdict == "no" and restates_denial(asked, claim, q.language, focus):
            return "yes", "restated"
        if cues.get("automatic") and cues.get("not_automatic") and cues["automatic"].search(asked) \
                and not NEGATIVE.search(q.text) and cues["not_automatic"].search(said) and verdict != "no":
            return "no", "not_by_itself"
        if cues.get("contrary") and cues["contrary"].search(asked) and not claim.negative_verdict \
                and verdict in _TURNED and not cues["contrary"].search(said):
            return _TURNED[verdict], "contrary"
        # "does the contract disappear?" answered by a claim saying the roles "do not disappear": no
        if verdict in _TURNED and _denies_contrary(asked, claim, focus):
            return "no", "contrary"
        if verdict in _TURNED and reported_negative(q.text, focus):
            return _TURNED[verdict], "contrary"
        if verdict in _TURNED and judged_against(asked, claim, focus):
            return _TURNED[verdict], "judged"
        # "shouldn't it grow into a strategic partnership, isn't that the goal?" answered "it is not a target for
        # every supplier": possible, but not what should be, so no
        if verdict in ("yes", "yes-with-nuance", "depends") and cues.get("normative") and cues.get("not_a_goal") \
                and cues["normative"].search(q.text) and cues["not_a_goal"].search(said):
            return "no", "not_a_goal"
        # "is a supplier a strategic partner?" answered by a claim written for whether one can become one: no,
        # not as such (it can become one, as the claim goes on to say)
        if verdict in ("yes", "yes-with-nuance") and _asks_identity(asked, focus) and _only_possible(claim):
            return "no", "not_identity"
        # "can they always coexist?" answered "yes, but not in every case": not always, so no
        if verdict in ("yes", "yes-with-nuance", "depends") and not_for_all(asked, [i["say"] for i in claim.sentences["en"]], focus):
            return "no", "not_for_all"
        return verdict, "claim"
    compares = q.compares or "contrast" in q.intents   # "do they mean the same? how do they differ?": not one claim's
    if verdict is None and (q.polar or q.asks_yes_no) and not q.asks_choice and not compares \
            and claim.verdict not in POLAR_VERDICTS:
        items = claim.sentences.get(q.language, claim.sentences["en"])[:2]
        if not_for_all(asked, [item["say"] for item in items], focus):
            return "no", "implied"
        if still_so(asked, [item["say"] for item in claim.sentences["en"]], focus):
            return "no", "still"
        if _denies_contrary(asked, claim, focus):   # "must they drop their roles?" - "the roles are not abolished"
            return "no", "contrary"
        if _denies_partnership(asked, claim, focus):   # "does it make them partners?" - "that is no partnership yet"
            return "no", "not_identity"
        evidence = cues.get("evidence")
        if evidence is not None and evidence.search(q.text) and any(
                str(item.get("cite", "")).startswith("literature/") for item in claim.sentences["en"][:2]):
            return "yes", "evidence"   # "is there research behind it?" answered from verified literature
        reported = reported_type(q.text, claim, focus)
        if reported is not None:
            return reported, "implied"
        implied = implied_verdict(q, claim, focus)
        contrary = cues.get("contrary")
        if implied == "yes" and contrary is not None and contrary.search(asked) and not contrary.search(said):
            return verdict, "claim"   # "does it stop being our contractor?": a claim that never speaks of that
        if implied is not None:
            return implied, "implied"
    return verdict, "claim"


def restates_denial(asked: str, claim: Claim, lang: str, focus: Focus) -> bool:
    """The question's own negation ("… that it could not name specific sources") is followed by at least
    RESTATED words that a negated clause of the claim's first sentence also has; a negation that only tags the
    question ("isn't it true that …", "is het niet zo dat …") does not count."""
    if not asked.rstrip().endswith("?"):   # "Bevestig dat … geen …" asks to state it: the claim's verdict stands
        return False
    names = {t for v in focus.voices for n in v.names for t in tokens(n)}
    for match in focus.negation.finditer(asked):
        if _TAG_NEGATION.match(asked, match.start()):
            continue
        after = set(tokens(" ".join(asked[match.end():].split()[:RESTATED + 2]))) - names   # whose denial, not what
        if len(after) < RESTATED:
            continue
        for item in (claim.sentences.get(lang) or [])[:1] + claim.sentences["en"][:1]:
            say = _OWN_LEAD.sub("", item["say"])
            if any((focus.negation.search(c) or _UNABLE.search(c)) and len(after & set(tokens(c))) >= RESTATED
                   for c in CLAUSE.split(say)):
                return True
    return False


def _only_possible(claim: Claim) -> bool:
    """Every yes/no question the claim was written for asks whether something can be ("Can a supplier become a
    strategic partner?")."""
    polar = [q for q in claim.questions if not WH_START.match(q)]
    return bool(polar) and all(_MODAL.search(q) for q in polar)


def _asks_identity(asked: str, focus: Focus) -> bool:
    """The question asks whether something is, or becomes, a partner ("Is our supplier a strategic partner?",
    "Is a contractor the same as a partner?"), not whether it can be one, nor whether it is not."""
    start = _IS_START.match(asked)
    # "is there an example of a client who is also a partner?" asks whether one exists, not whether it is one
    exists = start is not None and re.match(r"\s+(there|er)\b", asked[start.end():], re.I)
    return "partner" in asked.lower() and bool(start) and not exists and not _MODAL.search(asked) \
        and not focus.negation.search(asked)


def reported_negative(text: str, focus: Focus) -> bool:
    """The question asks whether someone is right ("Is he right?") about a view the asker reports in the negative
    ("my colleague insists we can't call ourselves partners"): the verdict on that view is the turned-round one."""
    cues = focus.verdict_cues
    right, reported, verify = cues.get("someone_right"), cues.get("reported"), cues.get("verify")
    asked = last_asked(text)
    if not (reported and (right and right.search(asked) or verify and verify.search(asked))):
        return False
    views = [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if reported.search(s) and not s.endswith("?")]
    if not views:
        return False
    view = views[-1][reported.search(views[-1]).end():]
    disputes = cues.get("disputes")
    return bool(focus.negation.search(view) or disputes is not None and disputes.search(view))


def judged_against(asked: str, claim: Claim, focus: Focus) -> bool:
    """The question asks whether something is a mistake or a bad thing ("is it a mistake to partner with every
    supplier?") of a claim written for whether to do it ("should every supplier become a partner?"): its verdict
    answers the question turned round."""
    against = focus.verdict_cues.get("against")
    return against is not None and bool(against.search(asked)) and not NEGATIVE.search(asked) \
        and not any(against.search(question) for question in claim.questions)


def _denies_contrary(asked: str, claim: Claim, focus: Focus) -> bool:
    """The question asks whether something contrary holds ("does the contract disappear?") and a clause of the
    claim denies it ("the roles do not disappear")."""
    return denying(asked, [item["say"] for item in claim.sentences["en"]], focus) is not None


def _denies_partnership(asked: str, claim: Claim, focus: Focus) -> bool:
    """A question whether something is, or makes, a partnership (not whether it can also be one) answered by a
    claim sentence saying it is not the same as one, or does not by itself make one."""
    cues = focus.verdict_cues
    if not cues.get("not_identity") or "partner" not in asked.lower() or NEGATIVE.search(asked) \
            or cues.get("possible") and cues["possible"].search(asked):
        return False
    return any(cues["not_identity"].search(item["say"]) and "partner" in item["say"].lower()
               for item in claim.sentences["en"])


def _type(word: str) -> str:
    word = word.lower().rstrip("s").removesuffix("en")
    return _TYPE_OF.get(word, word)


def reported_type(text: str, claim: Claim, focus: Focus) -> str | None:
    """"My boss says Glick would keep those departments at arm's length as customers. Right?" answered by a claim
    that leads with another of Glick's types ("A client relationship: …"): no; with the same type: yes."""
    typed = _TYPED_LEAD.match(claim.sentences["en"][0]["say"])
    reported = focus.verdict_cues.get("reported")
    if typed is None or reported is None:
        return None
    views = [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if reported.search(s) and not s.endswith("?")]
    named = {_type(m.group(1)) for m in _TYPES.finditer(views[-1][reported.search(views[-1]).end():])} if views else set()
    if len(named) != 1:
        return None
    return "yes" if named == {_type(typed.group(1))} else "no"


def still_so(asked: str, sentences: list[str], focus: Focus) -> bool:
    """"Have you moved beyond a transactional relationship?" answered by a sentence saying it is "still mainly
    transactional": a word of the question follows the sentence's "still"."""
    cues = focus.verdict_cues
    if not (cues.get("beyond") and cues.get("still") and cues["beyond"].search(asked)):
        return False
    words = {w for w in tokens(asked) if len(w) > 4}
    for sentence in sentences:
        for match in cues["still"].finditer(sentence):
            if words & set(tokens(sentence[match.end():match.end() + 40])):
                return True
    return False


def telling_first(pairs: list, how: str, focus: Focus) -> list:
    """(English item, item) pairs with the first whose English sentence carries the verdict moved to the front: the
    one saying it varies (how "not_for_all") or that it is still so (how "still")."""
    cue = focus.verdict_cues.get({"not_for_all": "varies", "still": "still", "not_a_goal": "not_a_goal",
                                  "contrary": "contrary", "not_identity": "not_identity",
                                  "not_by_itself": "not_automatic"}.get(how, ""))
    if cue is None:
        return pairs
    at = next((n for n, (english, _i) in enumerate(pairs) if cue.search(english["say"])), 0)
    return [pairs[at]] + pairs[:at] + pairs[at + 1:]


def asked_first(pairs: list, words: list[str]) -> list:
    """(English item, item) pairs with the one whose English sentence shares most of the question's words first."""
    share = [len(set(words) & set(tokens(english["say"]))) for english, _i in pairs]
    at = max(range(len(pairs)), key=lambda n: share[n], default=0)
    return [pairs[at]] + pairs[:at] + pairs[at + 1:] if pairs else pairs


def naming_at(pairs: list, question: str) -> int | None:
    """The position of the one sentence of (English item, item) pairs that names what the question names (a
    book's author: "… by D. Quinn Mills"), or None when none or several do."""
    names = {m.group(0) for m in NAME.finditer(question)}
    naming = [n for n, (english, _i) in enumerate(pairs)
              if any(re.search(rf"\b{name}\b", english["say"]) for name in names)]
    return naming[0] if len(naming) == 1 else None


def named_first(pairs: list, question: str) -> list:
    """The pairs with the one sentence that names what the question names moved to the front."""
    at = naming_at(pairs, question)
    return pairs if not at else [pairs[at]] + pairs[:at] + pairs[at + 1:]


def named_verdict(say: str, focus: Focus, asked: str = "") -> str | None:
    """The verdict a claim sentence naming one item of a checked list states of that item ("Three are real as
    listed: … Hansen's Collaboration" -> yes; "could not be verified" -> not-established; "real books with the wrong
    authors" -> no), from focus.yaml's item_* cues; None when it states none. Asked whether the item is real, a
    real item is a yes, with nuance when the sentence goes on with a "but" (a real book with the wrong authors)."""
    cues = focus.verdict_cues
    real = cues.get("item_real").search(say) if cues.get("item_real") and cues.get("asks_real") \
        and cues["asks_real"].search(asked) else None
    if real is not None:
        return "yes-with-nuance" if _TURN_AFTER.search(say, real.end()) else "yes"
    for verdict, key in (("not-established", "item_unverified"), ("no", "item_wrong"), ("yes", "item_real")):
        cue = cues.get(key)
        if cue is not None and cue.search(say):
            return verdict
    return None


STANCE_SHARE = 0.6   # how much of the best sentence's word share a negated claim sentence needs to be read instead


def implied_verdict(q: Question, claim: Claim, focus: Focus) -> str | None:
    """yes / no / depends as stated by the claim sentence that shares most words with the question, or None. A
    Dutch question is also read against the claim's Dutch sentences, in its own words."""
    readings = [(set(q.words), claim.sentences["en"])]
    asked = set(tokens(last_asked(q.text)))
    if len(asked) >= ASKED_WORDS and asked != set(tokens(q.text)):   # after a premise, the question sentence's words count too
        readings.append((asked, claim.sentences["en"]))
    if q.language == "nl" and "nl" in claim.sentences:
        readings.append((set(tokens(q.text)), claim.sentences["nl"]))
    shares = [(len(words & set(tokens(item["say"]))) / max(1, len(words)), item["say"])
              for words, items in readings for item in items]
    overlap, best = max(shares, key=lambda pair: pair[0], default=(0.0, None))
    if best is None or overlap < IMPLIED_OVERLAP:
        return None
    if len(asked) >= ASKED_WORDS and asked != set(tokens(q.text)):
        # the words the question shares may all sit in a sentence around it ("Glick works at Totus, right? I want to
        # mail him about his four-stage model"): the question sentence itself must meet the claim too, in more
        # than the names of the voices it asks about
        names = {t for v in focus.voices for n in v.names + tuple(v.who.values()) for t in tokens(n)}
        core = asked - names
        own = [claim.sentences["en"]] + ([claim.sentences["nl"]] if q.language == "nl" and "nl" in claim.sentences else [])
        if core and max((len(core & set(tokens(item["say"]))) / len(core) for items in own for item in items),
                        default=0.0) < IMPLIED_OVERLAP:
            return None
    # a sentence that says what is not so ("the roles are not abolished but made explicit") settles the question
    # better than one that only shares more of its words
    negated = [(share, say) for share, say in shares if share >= STANCE_SHARE * overlap and focus.negation.search(say)]
    if negated:
        overlap, best = max(negated, key=lambda pair: pair[0])
    verdict = read_verdict(q, Scored(0.0, overlap, best, None, 0), focus)
    cues = focus.verdict_cues
    if verdict == "no" and cues.get("possible") and cues.get("not_identity") and not NEGATIVE.search(q.text) \
            and cues["possible"].search(last_asked(q.text)) and cues["not_identity"].search(best):
        return "yes-with-nuance"   # "can it also be a partnership?" - "it is not the same thing as one"
    return verdict if verdict in POLAR_VERDICTS else None


def without_lead(say: str) -> str:
    """A claim sentence without its own verdict lead ("Largely yes, with nuance: …")."""
    rest = _OWN_LEAD.sub("", say)
    return rest[:1].upper() + rest[1:] if rest != say else say


def lead(say: str, verdict: str, how: str, lang: str, asked: str = "", focus: Focus | None = None) -> str:
    """The claim's first sentence opened with the verdict actually given (its own lead removed); "not by itself"
    in the question's own words ("Does it automatically …?" -> "No, not automatically.")."""
    if how == "not_by_itself":
        say = _OWN_LEAD.sub("", say)
        cue = focus.verdict_cues.get("automatic") if focus is not None else None
        word = cue.search(asked) if cue is not None else None
        if word is not None and len(word.group(0).split()) > 2:   # "any contractor turns …": not an adverb to echo
            word = None
        opening = (f"{'No, not' if lang == 'en' else 'Nee, niet'} {word.group(0).lower()}." if word
                   else _NOT_BY_ITSELF[lang])
        return f"{opening} {say[0].upper()}{say[1:]}"
    if how == "not_identity" and verdict == "no":   # "is a supplier a strategic partner?": not as such
        say = _OWN_LEAD.sub("", say)
        return f"{_NOT_AS_SUCH[lang]} {say[0].upper()}{say[1:]}"
    if how == "implied" and _OWN_LEAD.match(say):   # the sentence the verdict was read from already opens with it
        return say
    say = _OWN_LEAD.sub("", say)
    return f"{VERDICT_LEADS[lang][verdict]}. {say[0].upper()}{say[1:]}"
