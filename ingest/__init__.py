"""Load corpus notes and user documents, chunk them and embed them into the store, idempotently."""

from .pipeline import (IngestReport, ingest_corpus, ingest_paths, list_documents, private_summary, purge_expired,
                       remove_document)

__all__ = ["IngestReport", "ingest_corpus", "ingest_paths", "remove_document", "list_documents", "purge_expired",
           "private_summary"]
