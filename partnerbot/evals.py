"""The project eval: a question set (tests/evals/*.yaml|*.jsonl) scored for retrieval and for answers.

Independent of pytest so the CLI (`partnerbot eval`) and the baseline comparison can reuse it. Scoring:
- retrieval (in-scope and adversarial items with expected sources): hit@k, MRR and nDCG@10, where a passage
  matches when its doc_id (or doc_path) equals or starts with an expected source ("totus/", "glick/clients");
- answers: an item passes when every check holds (see `check_answer`); the score is the share passing.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import yaml

from .errors import InputError
from .settings import PROJECT_ROOT

KINDS = ("in_scope", "out_of_scope", "adversarial")
LANGUAGES = ("en", "nl")
DEFAULT_EVAL_DIR = PROJECT_ROOT / "tests" / "evals"
_MARKER = re.compile(r"\[(\d+)\]")


@dataclass
class EvalItem:
    id: str
    question: str
    language: str
    kind: str
    expected_sources: list[str]
    required: list            # each item: a string, or a list of alternative strings (any one suffices)
    forbidden: list[str]
    verdict: str | None = None
    history: list = field(default_factory=list)


# --- loading ------------------------------------------------------------------------------------------------

def _raw_items(path: Path) -> list:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        rows = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise InputError(f"{path}:{n} is not valid JSON ({exc.msg}): fix that line.") from None
        return rows
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"{path} is not valid YAML ({str(exc).splitlines()[0]}): fix the file.") from None
    if isinstance(data, dict):
        data = data.get("items")
    if data is None:
        return []
    if not isinstance(data, list):
        raise InputError(f"{path} must hold a list of eval items (or a mapping with an 'items' list).")
    return data


def _strings(value, what: str, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or any(isinstance(v, bool) for v in value):
        raise InputError(f"{where}: '{what}' must be a list of strings (quote yes/no in YAML).")
    value = [str(v) if isinstance(v, (int, float)) else v for v in value]
    if not all(isinstance(v, str) and v.strip() for v in value):
        raise InputError(f"{where}: '{what}' must be a list of non-empty strings.")
    return value


def _item(raw, where: str) -> EvalItem:
    if not isinstance(raw, dict):
        raise InputError(f"{where}: each eval item must be a mapping with id, question, language and kind.")
    missing = [k for k in ("id", "question", "language", "kind") if not str(raw.get(k) or "").strip()]
    if missing:
        raise InputError(f"{where}: eval item {raw.get('id', '?')} is missing {', '.join(missing)}.")
    where = f"{where} item {raw['id']}"
    if raw["kind"] not in KINDS:
        raise InputError(f"{where}: kind must be one of {', '.join(KINDS)}, not '{raw['kind']}'.")
    if raw["language"] not in LANGUAGES:
        raise InputError(f"{where}: language must be one of {', '.join(LANGUAGES)}, not '{raw['language']}'.")
    required = raw.get("required") or []
    if not isinstance(required, list):
        raise InputError(f"{where}: 'required' must be a list of strings or lists of alternatives.")
    if any(isinstance(req, list) and not req for req in required):
        raise InputError(f"{where}: 'required' alternatives must be non-empty strings.")
    required = [_strings(req, "required", where) if isinstance(req, list) else _strings([req], "required", where)[0]
                for req in required]
    history = raw.get("history") or []
    if not isinstance(history, list) or not all(isinstance(h, dict) and "content" in h for h in history):
        raise InputError(f"{where}: 'history' must be a list of {{role, content}} mappings.")
    verdict = raw.get("verdict")
    if isinstance(verdict, bool):
        raise InputError(f"{where}: quote the verdict (\"yes\"/\"no\"): YAML reads a bare yes/no as true/false.")
    return EvalItem(id=str(raw["id"]), question=str(raw["question"]), language=raw["language"], kind=raw["kind"],
                    expected_sources=_strings(raw.get("expected_sources"), "expected_sources", where),
                    required=required, forbidden=_strings(raw.get("forbidden"), "forbidden", where),
                    verdict=None if verdict is None else str(verdict), history=history)


def load_eval_set(path: Path | None = None) -> list[EvalItem]:
    """Eval items from a .yaml/.jsonl file or a folder of them (default: tests/evals/); ids must be unique."""
    path = Path(path) if path is not None else DEFAULT_EVAL_DIR
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml", ".jsonl"))
        if not files:
            raise InputError(f"No *.yaml or *.jsonl eval files in {path}: add some or pass a file.")
    elif path.is_file():
        if path.suffix not in (".yaml", ".yml", ".jsonl"):
            raise InputError(f"{path} is not an eval file: use .yaml or .jsonl.")
        files = [path]
    else:
        raise InputError(f"Eval set not found: {path}. Pass a .yaml/.jsonl file or a folder of them.")
    items, seen = [], set()
    for file in files:
        for n, raw in enumerate(_raw_items(file), 1):
            item = _item(raw, f"{file.name}#{n}")
            if item.id in seen:
                raise InputError(f"{file.name}: duplicate eval id '{item.id}': ids must be unique.")
            seen.add(item.id)
            items.append(item)
    if not items:
        raise InputError(f"The eval set at {path} holds no items.")
    return items


# --- retrieval ----------------------------------------------------------------------------------------------

def _doc_of(passage) -> str:
    get = passage.get if isinstance(passage, dict) else lambda k, d="": getattr(passage, k, d)
    doc = get("doc_id", "") or get("doc_path", "") or ""
    doc = doc[len("corpus/"):] if doc.startswith("corpus/") else doc
    return doc[:-3] if doc.endswith(".md") else doc


def source_matches(doc: str, expected: Iterable[str]) -> str | None:
    """The expected source (note id or prefix) that doc belongs to, else None."""
    return next((source for source in expected if doc.startswith(source)), None)


def score_retrieval(search: Callable[[str], list], items: list[EvalItem], k: int = 5) -> dict:
    """hit@k, MRR and nDCG@10 over items that name expected sources (out-of-scope items are skipped).

    nDCG@10 counts each expected source once: the first passage of a source gains 1, repeats gain 0, and the
    ideal ranking puts min(#sources, 10) distinct sources on top."""
    hits, top1, rr, ndcg, misses = 0, 0, 0.0, 0.0, []
    scored = [i for i in items if i.kind != "out_of_scope" and i.expected_sources]
    for item in scored:
        docs = [_doc_of(p) for p in search(item.question)]
        first = next((rank for rank, doc in enumerate(docs, 1) if source_matches(doc, item.expected_sources)), None)
        top1 += first == 1
        if first is not None and first <= k:
            hits += 1
        else:
            misses.append(item.id)
        rr += 1.0 / first if first and first <= 10 else 0.0
        found, dcg = set(), 0.0
        for rank, doc in enumerate(docs[:10], 1):
            source = source_matches(doc, item.expected_sources)
            if source and source not in found:
                found.add(source)
                dcg += 1.0 / math.log2(rank + 1)
        ideal = sum(1.0 / math.log2(r + 1) for r in range(1, min(len(item.expected_sources), 10) + 1))
        ndcg += dcg / ideal
    n = len(scored)
    return {"hit_at_1": round(top1 / n, 4) if n else 0.0,
            "hit_at_k": round(hits / n, 4) if n else 0.0, "mrr": round(rr / n, 4) if n else 0.0,
            "ndcg_at_10": round(ndcg / n, 4) if n else 0.0, "k": k, "n": n, "misses": misses}


# --- answers ------------------------------------------------------------------------------------------------

def check_answer(item: EvalItem, answer) -> list[str]:
    """Reasons the answer fails the item (empty when it passes)."""
    text = answer.text or ""
    lowered = text.lower()
    reasons = []
    for req in item.required:
        options = [req] if isinstance(req, str) else list(req)
        if not any(o.lower() in lowered for o in options):
            reasons.append("missing required " + " | ".join(repr(o) for o in options))
    for bad in item.forbidden:
        if bad.lower() in lowered:
            reasons.append(f"contains forbidden {bad!r}")
    if item.verdict is not None and (answer.verdict or None) != item.verdict:
        reasons.append(f"verdict {answer.verdict!r} != {item.verdict!r}")
    cited = {c.marker for c in answer.citations}
    missing = sorted({int(m) for m in _MARKER.findall(text)} - cited)
    if missing:
        reasons.append(f"markers without citation: {missing}")
    docs = [_doc_of(c) for c in answer.citations]
    if item.kind == "out_of_scope" or (item.kind == "adversarial" and not item.expected_sources):
        if not answer.refused:
            reasons.append("not refused")
        if answer.citations:
            reasons.append("a refusal must not cite passages")
    elif item.kind == "adversarial" and answer.refused:
        pass  # refusing an injected or false-premise question is acceptable
    else:
        if answer.refused:
            reasons.append("refused an in-scope question")
        elif not answer.citations:
            reasons.append("no citations")
        elif item.expected_sources and not any(source_matches(d, item.expected_sources) for d in docs):
            reasons.append(f"cites {sorted(set(docs))}, none from {item.expected_sources}")
    if answer.language != item.language:
        reasons.append(f"answered in {answer.language!r}, asked in {item.language!r}")
    return reasons


def score_answers(answer: Callable[[str, list], "object"], items: list[EvalItem]) -> dict:
    """Ask every item (with its history) and check the Answer; score = share of items passing all checks."""
    failures = []
    for item in items:
        result = answer(item.question, item.history)
        reasons = check_answer(item, result)
        if reasons:
            failures.append({"id": item.id, "question": item.question, "reasons": reasons})
    n = len(items)
    passed = n - len(failures)
    return {"score": round(passed / n, 4) if n else 0.0, "n": n, "passed": passed, "failures": failures}


# --- bilingual retrieval ------------------------------------------------------------------------------------

BILINGUAL_DIR = DEFAULT_EVAL_DIR / "bilingual"
DIRECTIONS = ("en->en", "nl->en", "nl->nl", "en->nl")


def load_bilingual(folder: Path = BILINGUAL_DIR) -> dict[str, list[EvalItem]]:
    """tests/evals/bilingual/questions.yaml grouped by direction (question language -> target language)."""
    path = folder / "questions.yaml"
    raw = _raw_items(path)
    items = {d: [] for d in DIRECTIONS}
    for n, row in enumerate(raw, 1):
        direction = row.get("direction") if isinstance(row, dict) else None
        if direction not in items:
            raise InputError(f"{path.name}#{n}: direction must be one of {', '.join(DIRECTIONS)}.")
        item = _item(row, f"{path.name}#{n}")
        # an uploaded document's chunks carry doc_id "user/NAME.md", which _doc_of reads as "user/NAME"
        item.expected_sources = [s[:-3] if s.endswith(".md") else s for s in item.expected_sources]
        items[direction].append(item)
    return items


def score_bilingual(search: Callable[[str], list], groups: dict[str, list[EvalItem]], k: int = 5) -> dict:
    """score_retrieval per direction."""
    return {direction: score_retrieval(search, items, k) for direction, items in groups.items()}
