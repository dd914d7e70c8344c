"""Shaobing ingest: upstream CDC feeds and CSV files in, canonical source events out."""
