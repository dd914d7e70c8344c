"""The change-data-capture format: Debezium values and CSV exports as typed row changes, and the
ids that make the same upstream change the same event on any channel. Pure."""
