"""Benchmark results as rows of the tables in docs/benchmarks.md, one table per benchmark."""

from __future__ import annotations

import os
import platform
from pathlib import Path

from .stack import ROOT

BENCHMARKS = ROOT / "docs" / "benchmarks.md"


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def append_row(heading: str, columns: list[str], row: list[str], path: Path = BENCHMARKS) -> str:
    """Add `row` to the table under `heading` (created at the end of the file if missing)."""
    line = "| " + " | ".join(row) + " |"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else ["# Benchmarks"]
    if heading not in lines:
        lines += ["", heading, "", "| " + " | ".join(columns) + " |", "|---" * len(columns) + "|"]
        lines.append(line)
    else:
        at = lines.index(heading) + 1
        while at < len(lines) and not lines[at].startswith("|"):
            at += 1
        while at < len(lines) and lines[at].startswith("|"):
            at += 1
        lines.insert(at, line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return line
