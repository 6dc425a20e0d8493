"""Load corpus notes and user documents, chunk them and embed them into the store, idempotently."""

from .pipeline import IngestReport, ingest_corpus, ingest_paths, remove_document, list_documents

__all__ = ["IngestReport", "ingest_corpus", "ingest_paths", "remove_document", "list_documents"]
