"""The claims table (corpus/claims.yaml) is well-formed, and every citation points at a passage that supports it.

Support is lexical: the share of an English sentence's content words found in the passage the answerer cites
(`partnerbot.rules.support`). The bar is `settings.support_threshold` (0.6 by default), the same bar the LLM
answerer's citation check uses. Dutch renderings cite the same passages as their English twins (parallel lists).
"""

from __future__ import annotations

import re

import pytest
import yaml

from partnerbot.errors import ConfigError
from partnerbot.rules import POLAR_VERDICTS, load_claims, support
from partnerbot.settings import PROJECT_ROOT
from partnerbot.vocab import load_vocab

CORPUS = PROJECT_ROOT / "corpus"
CLAIMS = load_claims(str(CORPUS))
VERDICTS = POLAR_VERDICTS | {"client", "contractor"}


def _headings(note_id: str) -> list[str]:
    text = (CORPUS / f"{note_id}.md").read_text(encoding="utf-8")
    return [line[3:].strip() for line in text.splitlines() if line.startswith("## ")]


def test_claims_table_is_substantial_and_bilingual():
    assert len(CLAIMS) >= 40
    for claim in CLAIMS:
        assert set(claim.sentences) == {"en", "nl"}, claim.id
        assert len(claim.sentences["en"]) == len(claim.sentences["nl"]) >= 2, claim.id
        assert all(item["say"].strip() for lang in ("en", "nl") for item in claim.sentences[lang]), claim.id
        assert claim.verdict is None or claim.verdict in VERDICTS, (claim.id, claim.verdict)
        assert claim.negative_verdict is None or claim.negative_verdict in VERDICTS, claim.id


def test_every_cited_note_and_section_exists():
    for claim in CLAIMS:
        for item in claim.sentences["en"]:
            note = CORPUS / f"{item['cite']}.md"
            assert note.is_file(), f"{claim.id} cites missing note {item['cite']}"
            if item.get("section"):
                assert any(item["section"].lower() in h.lower() for h in _headings(item["cite"])), \
                    f"{claim.id}: no heading of {item['cite']} contains {item['section']!r}"
        # Dutch sentences cite through their English twin; a cite of their own must not diverge from it.
        for en, nl in zip(claim.sentences["en"], claim.sentences["nl"]):
            assert nl.get("cite") in (None, en["cite"]), claim.id


def test_every_concept_a_claim_names_is_in_the_vocabulary():
    known = set(load_vocab(str(CORPUS)).english)
    for claim in CLAIMS:
        assert claim.concepts <= known, (claim.id, claim.concepts - known)
        assert claim.requires or claim.any_of, claim.id


def test_every_english_sentence_is_supported_by_the_passage_it_cites(rules, corpus_settings):
    threshold = corpus_settings.support_threshold
    weak = []
    for claim in CLAIMS:
        for n, item in enumerate(claim.sentences["en"]):
            passage = rules._best_passage(item["cite"], item["say"], item.get("section"))
            assert passage is not None, f"{claim.id}[{n}]: {item['cite']} has no passages in the store"
            if item.get("section"):
                assert item["section"].lower() in passage.section.lower(), (claim.id, n, passage.section)
            score = support(item["say"], passage.text)
            if score < threshold:
                weak.append(f"{claim.id}[{n}] {score:.2f} -> {item['cite']} / {passage.section}")
    assert not weak, "sentences without enough lexical support:\n" + "\n".join(weak)


def test_canonical_questions_match_their_own_claim(rules):
    vocab = rules.vocab
    wrong = []
    for claim in CLAIMS:
        languages = {vocab.language(q) for q in claim.questions}
        assert languages == {"en", "nl"}, f"{claim.id} needs canonical questions in English and Dutch"
        for question in claim.questions:
            matched = rules.match_claim(question)
            if matched is None or matched.id != claim.id:
                wrong.append(f"{question!r}: {matched.id if matched else None} instead of {claim.id}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("claim", [c for c in CLAIMS if c.questions], ids=lambda c: c.id)
def test_claim_answers_cite_every_sentence_in_the_question_language(rules, claim):
    for question in claim.questions:
        lang = rules.vocab.language(question)
        answer = rules.answer(question)
        assert answer.claim_id == claim.id and answer.language == lang and not answer.refused
        # the claim's own sentences come first (the one naming what the question names may lead), each cited; a
        # sentence the answer is completed with (complete.py: a subject word the claim leaves out) may follow
        markers = [int(m) for m in re.findall(r"\[(\d+)\]", answer.text)]
        own = len(claim.sentences[lang])
        assert len(markers) >= own and set(markers) == {c.marker for c in answer.citations}
        cited = [c.doc_id for c in answer.citations]
        assert {item["cite"] for item in claim.sentences["en"]} == set(cited[:len(set(markers[:own]))])
        said = " ".join(re.findall(r"[^\]]*?\[\d+\]", answer.text)[:own])
        for item in claim.sentences[lang]:
            assert item["say"].strip() in said


def _write_claims(corpus_copy, claims: list) -> str:
    path = corpus_copy / "claims.yaml"
    path.write_text(yaml.safe_dump({"claims": claims}, allow_unicode=True), encoding="utf-8")
    return str(corpus_copy)


def test_loader_rejects_unparallel_sentences_and_conceptless_claims(corpus_copy):
    sentence = {"say": "A sentence.", "cite": "totus/context"}
    base = {"id": "x", "requires": ["client"], "answer": {"en": [sentence, sentence], "nl": [sentence]}}
    with pytest.raises(ConfigError, match="parallel"):
        load_claims(_write_claims(corpus_copy, [base]))
    load_claims.cache_clear()
    conceptless = {"id": "y", "patterns": ["weather"], "answer": {"en": [sentence], "nl": [sentence]}}
    with pytest.raises(ConfigError, match="names no concept"):
        load_claims(_write_claims(corpus_copy, [conceptless]))
    load_claims.cache_clear()
    twice = {"id": "z", "requires": ["client"], "answer": {"en": [sentence], "nl": [sentence]}}
    with pytest.raises(ConfigError, match="used twice"):
        load_claims(_write_claims(corpus_copy, [twice, dict(twice)]))
    load_claims.cache_clear()
    # a "Yes:" lead without a verdict would be said to every question, "which phases …?" included
    opens = {"id": "w", "requires": ["client"], "answer": {"en": [{"say": "Yes: a sentence.", "cite": "totus/context"}]}}
    with pytest.raises(ConfigError, match="no yes/no verdict"):
        load_claims(_write_claims(corpus_copy, [opens]))
    load_claims.cache_clear()


def test_broken_claims_file_is_a_one_line_config_error(corpus_copy):
    (corpus_copy / "claims.yaml").write_text("claims: [\n  - id: : :\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML") as err:
        load_claims(str(corpus_copy))
    assert "\n" not in str(err.value)
    load_claims.cache_clear()
