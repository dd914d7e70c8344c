"""Alerts and their queue: reading them, the work queue and its export, the workflow's steps,
the pages."""
