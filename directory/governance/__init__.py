"""Data governance (issue 17): erasure, a person's data archive, retention of statements.

Erasure of a person (GDPR art. 17), their data archive (art. 20), and per-store retention.

``inventory`` is the one answer to "what belongs to person P"; the dry run, the erasure and the
archive all read it, so they cannot disagree.
"""
