"""The five upstream sources: their tables (design.md §4) and the events each row change of a
table means. Pure."""
