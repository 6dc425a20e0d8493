"""Concept vocabulary from corpus/concepts.yaml: concept detection, language guess, Dutch→English expansion."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from .errors import ConfigError

_WORD = re.compile(r"[a-zà-ÿ0-9'()&.]+")
_QUOTED = re.compile(r"(?:^|(?<=[\s(]))['\"“‘][^'\"”’\n]{2,80}['\"”’](?=[\s,.;:?!)]|$)")
_NL_WORDS = {"de", "het", "een", "is", "van", "wat", "kan", "wie", "en", "niet", "zijn", "voor", "tussen", "welke",
             "hoe", "waarom", "met", "dat", "ook", "bij", "je", "jij", "u", "ik", "wordt", "worden", "er", "naar",
             "mag", "moet", "zegt", "volgens", "heeft", "hebben", "deze", "dit", "die", "waar", "welk", "over", "of",
             "als", "bij", "nog", "dan", "geen", "wel", "eigenlijk", "bedoeld", "boeken", "raad", "aan", "tegelijk",
             "hoeveel", "uit", "haalde", "wij", "ons", "onze", "mijn", "hun", "hij", "zij", "maar", "want", "dus",
             "toch", "door", "om", "te", "op", "zou", "zouden", "was", "waren", "naast", "veel", "meer", "hier", "daar",
             "erbij", "daarbij", "haalt", "gaat", "komt", "maakt", "doet", "staat", "hem", "haar", "ze"}
# Dutch function words rendered in English when a Dutch question is translated for the embedding model.
_NL_FUNCTION = {"kan": "can", "kunnen": "can", "een": "a", "zijn": "be", "de": "the", "het": "the", "wie": "who",
                "wat": "what", "heeft": "has", "hebben": "have", "van": "of", "en": "and", "tussen": "between",
                "welke": "which", "welk": "which", "hoe": "how", "waarom": "why", "ook": "also", "met": "with",
                "voor": "for", "zegt": "says", "over": "about", "tot": "to", "naar": "to", "mag": "may", "moet": "must",
                "bij": "with", "geen": "no", "niet": "not", "volgens": "according to", "wordt": "is", "dat": "that",
                "deze": "these", "dit": "this", "die": "that", "er": "there", "als": "as", "of": "or", "ik": "I",
                "je": "you", "u": "you", "mijn": "my", "onze": "our", "echt": "really", "eigenlijk": "actually"}
_EN_WORDS = {"the", "a", "an", "is", "of", "what", "can", "who", "and", "not", "are", "for", "between", "which",
             "how", "why", "with", "that", "also", "does", "do", "you", "i", "be", "to", "in", "say", "says",
             "did", "should", "according", "has", "have", "this", "these", "where", "about", "or", "if", "than",
             "by", "said", "wrote", "written", "it", "from", "would", "could", "when", "were", "they", "their", "our",
             "my", "will"}


@dataclass(frozen=True)
class Vocab:
    patterns: tuple[tuple[str, str, str, re.Pattern], ...]   # (concept, language, term, regex), longest first
    english: dict[str, str]                                  # concept -> first English term
    dutch_terms: tuple[tuple[re.Pattern, str], ...]

    def concepts(self, text: str) -> list[str]:
        """Concepts mentioned in text, ordered by first mention; a longer term hides shorter ones inside it."""
        lowered = text.lower()
        taken: list[tuple[int, int]] = []
        found: dict[str, int] = {}
        for concept, _lang, _term, regex in self.patterns:
            for match in regex.finditer(lowered):
                span = match.span()
                if any(s < span[1] and span[0] < e for s, e in taken):
                    continue
                taken.append(span)
                found[concept] = min(found.get(concept, span[0]), span[0])
        return sorted(found, key=found.get)

    def language(self, text: str) -> str:
        # a quoted title or phrase is in its own language ("Is 'Partnering: The New Face of Leadership' geschreven
        # door …?"): the words around it say which language the question is in
        unquoted = _QUOTED.sub(" ", text)
        text = unquoted if _WORD.search(unquoted) else text
        words = _WORD.findall(text.lower())
        nl = sum(w in _NL_WORDS for w in words)
        en = sum(w in _EN_WORDS for w in words)
        nl_terms = sum(1 for _c, lang, _t, rx in self.patterns if lang == "nl" and rx.search(text.lower())
                       and not any(rx2.search(text.lower()) for _c2, l2, t2, rx2 in self.patterns if l2 == "en" and t2 == _t))
        return "nl" if nl + nl_terms > en else "en"

    def translate(self, text: str) -> str:
        """Replace Dutch terms by their English rendering in place (for the English-only embedding model)."""
        if self.language(text) != "nl":
            return text
        out = text.lower()
        for concept, lang, _term, regex in self.patterns:
            if lang == "nl":
                out = regex.sub(self.english[concept], out)
        for regex, english in self.dutch_terms:
            out = regex.sub(english, out)
        return re.sub(r"[a-zà-ÿ]+", lambda m: _NL_FUNCTION.get(m.group(0), m.group(0)), out)

    def expand(self, text: str) -> str:
        """Append English renderings of Dutch terms, for BM25 (the dense side embeds `translate(text)` instead)."""
        lowered = text.lower()
        extra = [self.english[c] for c, lang, term, rx in self.patterns if lang == "nl" and rx.search(lowered)]
        extra += [en for rx, en in self.dutch_terms if rx.search(lowered)]
        extra = list(dict.fromkeys(e for e in extra if e not in lowered))
        return f"{text} ({' '.join(extra)})" if extra else text


def _regex(term: str) -> re.Pattern:
    return re.compile(r"(?<![\w])" + re.escape(term.lower()) + r"(?![\w])")


@lru_cache(maxsize=4)
def load_vocab(corpus_dir: str) -> Vocab:
    path = Path(corpus_dir) / "concepts.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"Missing {path}: restore corpus/concepts.yaml or set PARTNERBOT_CORPUS_DIR.") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML ({str(exc).splitlines()[0]}): fix the file.") from None
    rows, english = [], {}
    for concept, langs in (data.get("concepts") or {}).items():
        english[concept] = (langs.get("en") or [concept])[0]
        for lang in ("en", "nl"):
            for term in langs.get(lang) or []:
                rows.append((concept, lang, str(term).lower(), _regex(str(term))))
    rows.sort(key=lambda r: -len(r[2]))
    dutch = tuple((_regex(k), str(v)) for k, v in (data.get("dutch_terms") or {}).items())
    return Vocab(tuple(rows), english, dutch)
