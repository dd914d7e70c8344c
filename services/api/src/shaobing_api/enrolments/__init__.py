"""Enrolments: written in batches with their events and audit entries; a new payout account
confirmed by a second person."""
