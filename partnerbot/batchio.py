"""Batch file formats, re-exported from where they live: reading question files is partnerbot.batchread,
writing answer records (formula escaping, atomic rewrite, journal) is partnerbot.batchwrite.

The runner (resume, concurrency, progress) is partnerbot.batch.
"""

from __future__ import annotations

from .batchread import ID_COLUMN, INPUT_KINDS, QUESTION_COLUMNS, read_questions  # noqa: F401
from .batchwrite import (  # noqa: F401
    FLAT_COLUMNS, FORMATS, JOURNAL_SUFFIX, OUTPUT_KINDS, OUTPUTS, CsvOutput, Journal, JsonlOutput, MarkdownOutput,
    Output, XlsxOutput, flat_row, read_records, source_line,
)
