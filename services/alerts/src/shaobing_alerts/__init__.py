"""alerts: persists alerts idempotently and keeps their timeline."""
