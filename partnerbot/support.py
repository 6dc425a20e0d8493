"""Whether a cited passage supports an answer sentence, in English, in Dutch and across the two.

- Same language: the share of the sentence's content words found in the passage (Dutch words stemmed) reaches
  support_threshold, or the embedding cosine reaches support_cosine.
- Across languages words seldom match, so a sentence is never judged by them alone: the Dutch side is first
  rendered through the concept map (opdrachtgever → client …), and the passage supports the sentence when
  cosine + CROSS_WORDS_WEIGHT × that word share reaches support_cross (the multilingual model puts a
  translation close to its source).
- Always: what survives translation must agree. Numbers (digits and number words, English or Dutch) and
  names in the sentence must occur in the passage ("four stages" citing a passage about three fails). The
  passage here includes what the model was shown about it: note title, section, source, author, reference.
- The cosine is the best of the whole passage and each of its sentences (with its neighbour): an answer
  sentence restates one or two sentences of a passage, and against the whole passage its similarity is
  diluted, most of all across languages.

Thresholds were chosen on tests/evals/calibration/support.yaml (precision and recall per language pair are
printed by tests/test_support.py and written down in bench/RESULTS.md). The check measures agreement in
words, meaning and anchors, not truth: a sentence that negates its passage with the same words can pass.
"""

from __future__ import annotations

import re
from typing import Callable

from .citations import Source, word_share
from .lang import dutch_tokens, tokens
from .settings import Settings
from .vocab import Vocab

CROSS_WORDS_WEIGHT = 0.25
_DIGITS = re.compile(r"\d+(?:[.,]\d+)?")
# "one"/"een" are left out: they are also pronouns and articles ("only one appears…", "een boek")
_NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    "- - two three four five six seven eight nine ten eleven twelve".split()) if w != "-"}
_NUMBER_WORDS.update({w: str(i) for i, w in enumerate(
    "- - twee drie vier vijf zes zeven acht negen tien elf twaalf".split()) if w != "-"})
_NUMBER_WORDS.update({w: str(i) for i, w in enumerate(
    "- first second third fourth fifth sixth seventh".split(), 0) if w != "-"})
_NUMBER_WORDS.update({w: str(i) for i, w in enumerate(
    "- eerste tweede derde vierde vijfde zesde zevende".split(), 0) if w != "-"})
_NUMBER_WORDS.update({"twenty": "20", "twintig": "20", "hundred": "100", "honderd": "100"})
_CAPITALISED = re.compile(r"(?<![\w'’-])([A-Z][\w]*(?:[-–][A-Z][\w]*)*)")
_WORD = re.compile(r"[\w]+")
# Capitalised words that are not names (sentence-initial words are skipped anyway).
_VOICES = frozenset({"chatgpt", "bing", "glick", "totus"})
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“(])")
_NOT_NAMES = frozenset("""i a the this that these those it in on at for of and or but so yes no not note also both
de het een dit dat deze die in op bij voor van en of maar dus ja nee niet ook beide let volgens
dutch english american british european nederlandse nederlands engelse amerikaanse britse europese""".split())


def numbers(text: str) -> set[str]:
    found = {n.replace(",", ".") for n in _DIGITS.findall(text)}
    return found | {_NUMBER_WORDS[w] for w in _WORD.findall(text.lower()) if w in _NUMBER_WORDS}


def names(text: str) -> set[str]:
    """Capitalised words ('Bing', 'Rijkswaterstaat', 'BAM'), lower-cased; the first word of the text only when
    it is one of the corpus's voices (any sentence may start with a capital)."""
    out = set()
    first = _WORD.search(text)
    for match in _CAPITALISED.finditer(text):
        if first and match.start() == first.start() and match.group(1).lower() not in _VOICES:
            continue
        for part in re.split(r"[-–]", match.group(1)):
            word = part.lower()
            if part[:1].isupper() and word not in _NOT_NAMES and len(word) > 1:
                out.add(word)
    return out


def anchors_agree(sentence: str, passage: str) -> bool:
    """Numbers and names of the sentence occur in the passage (they are the same in both languages)."""
    if not numbers(sentence) <= numbers(passage):
        return False
    words = {w.lower() for w in _WORD.findall(passage)}
    return all(name in words or name.rstrip("s") in words or name + "s" in words or _possessive(name) in words
               for name in names(sentence))


def _possessive(name: str) -> str:
    return name[:-2] if name.endswith("'s") or name.endswith("’s") else name


def units(passage: str) -> list[str]:
    """The passage, its sentences and each pair of neighbouring sentences."""
    sentences = [x for x in _SENTENCE.split(" ".join(passage.split())) if len(x.split()) >= 4]
    pairs = [f"{a} {b}" for a, b in zip(sentences, sentences[1:])]
    return [passage] + (sentences + pairs if len(sentences) > 1 else [])


class Judge:
    """judge(sentence, source) for citations.SupportChecker; sentences are in the answer's language."""

    def __init__(self, settings: Settings, vocab: Vocab, similarity: Callable[[str, str], float] | None,
                 language: str):
        self.settings = settings
        self.vocab = vocab
        self.similarity = similarity
        self.language = language

    def share(self, sentence: str, source: Source) -> float:
        """Content-word share, in the passage's terms: Dutch with Dutch stems, across languages after the
        concept map has rendered the Dutch side in English."""
        if self.language == source.language == "nl":
            return word_share(dutch_tokens, sentence, source.text)
        sentence = self.vocab.translate(sentence) if self.language == "nl" else sentence
        passage = self.vocab.translate(source.text) if source.language == "nl" else source.text
        return word_share(tokens, sentence, passage)

    def __call__(self, sentence: str, source: Source) -> bool:
        if not anchors_agree(sentence, source.text):
            return False
        share = self.share(sentence, source)
        if share >= self.settings.support_threshold:
            return True
        if self.similarity is None:
            return False
        cosine = max(self.similarity(sentence, unit) for unit in units(source.text))
        if self.language == source.language:
            return cosine >= self.settings.support_cosine
        return cosine + CROSS_WORDS_WEIGHT * share >= self.settings.support_cross
