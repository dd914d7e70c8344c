"""Pure ingest domain: table definitions, CDC item parsing and event derivation (no I/O)."""
