"""What the business looks like, for the dashboards and the alert rules."""
