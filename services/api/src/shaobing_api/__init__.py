"""api: enrolments, the alert queue and the case-worker pages."""
