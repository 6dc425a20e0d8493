"""Language of a text (English or Dutch) and the word tokens BM25 and the citation check compare.

English text keeps the light normalising partnerbot has always used (stop words out, a plural "s" folded);
Dutch text gets Dutch stop words and the Snowball Dutch stemmer, so "aannemers", "aannemer" and
"samenwerkingen"/"samenwerking" meet."""

from __future__ import annotations

import re
from functools import lru_cache

_TOKEN = re.compile(r"[a-z0-9à-ÿ]+")
_STOP = frozenset("""a an the and or of to in on for with by at from as is are was were be been being it its this that these
those there their them they he she his her we our you your i me my not no do does did can could would should may might
will shall so if then than but into about over under also just only very more most such what which who whom whose why how
when where while up out yes has have had
de het een van en zijn kan wat wie hoe met voor tussen dat die dit deze er ook als bij naar om op te tot uit of
niet wel nog dan maar heeft hebben wordt worden mag moet je jij ik we wij zij hun hem haar""".split())
# Words that are frequent in one language and rare in the other (no shared spellings such as "is", "of").
_EN_MARKS = frozenset("the and of to in that it for with as on by this are be or from at which have has not but "
                      "they can who what does do should would their there when how why was were".split())
_NL_MARKS = frozenset("de het een en van dat die niet op te voor zijn met als er maar om aan ook bij nog wordt "
                      "worden kan wie wat hoe waarom welke heeft hebben deze dit naar door tussen geen wel onze "
                      "wij zij hun mijn".split())


# a capitalised word after the first of its sentence: a name, perhaps an author's ("what does Koppenjan say?")
NAME = re.compile(r"(?<=\S )[A-Z][a-z]{3,}\b")
# a full stop after an initial or a short abbreviation ("D. Quinn Mills", "e.g. Kraljic") ends no sentence
_NO_END = re.compile(r"(?:^|[\s(])(?:[A-Z]|e\.g|i\.e|vs|cf|Dr|Mr|Ms|St|p|pp|ed|eds|vol)\.$")
_ENDS = re.compile(r"(?<=[.!?])\s+")
_ENDS_BEFORE_CAPITAL = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“(])")


def sentences(text: str, capital: bool = False) -> list[str]:
    """The sentences of a text (split after . ! ?, and with capital=True only before a capital or a quote)."""
    merged: list[str] = []
    for part in (_ENDS_BEFORE_CAPITAL if capital else _ENDS).split(" ".join(text.split())):
        if merged and _NO_END.search(merged[-1]):
            merged[-1] = f"{merged[-1]} {part}"
        else:
            merged.append(part)
    return merged


def tokens(text: str) -> list[str]:
    """Lower-case word tokens without stop words, with a light plural strip (partners → partner)."""
    out = []
    for tok in _TOKEN.findall(text.lower()):
        if tok in _STOP:
            continue
        if len(tok) > 4 and tok.endswith("s") and not tok.endswith("ss"):
            tok = tok[:-1]
        out.append(tok)
    return out


@lru_cache(maxsize=1)
def _dutch():
    import Stemmer
    from bm25s.stopwords import STOPWORDS_DUTCH

    return Stemmer.Stemmer("dutch"), frozenset(STOPWORDS_DUTCH) | _STOP


def dutch_tokens(text: str) -> list[str]:
    """Dutch stop words out, the rest stemmed (aannemers → aannemer, samenwerkingen → samenwerk)."""
    stemmer, stop = _dutch()
    return stemmer.stemWords([t for t in _TOKEN.findall(text.lower()) if t not in stop and len(t) > 1])


def index_tokens(text: str, language: str) -> list[str]:
    """The tokens BM25 indexes for a chunk in this language."""
    return dutch_tokens(text) if language == "nl" else tokens(text)


def detect(text: str) -> str:
    """'nl' or 'en' by marker words (a document or chunk; questions use Vocab.language, which also knows terms)."""
    words = _TOKEN.findall(text.lower()[:20000])
    nl = sum(w in _NL_MARKS for w in words)
    en = sum(w in _EN_MARKS for w in words)
    return "nl" if nl > en else "en"
