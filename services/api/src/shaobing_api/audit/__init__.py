"""The audit trail for auditors, and its chain's anchoring outside the database."""
