"""Anchors of the audit chain, kept outside the database: a directory only ever appended to.

One JSON line per anchor, one file per UTC day (`anchors-2026-12-01.jsonl`), each line written
with one `write` and fsynced. The directory is `AUDIT_ANCHOR_DIR`: a volume the database's owner
cannot write (in production one whose files cannot be rewritten either, or copied to object
storage under a retention lock: docs/operations.md, "The audit trail's key and anchors").
Anchors only ever add true statements, so two writers at once do no harm.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import orjson

from .audit_chain import Anchor
from .settings import AuditSettings

_TAIL = 4096  # bytes read from a day's end: a line is ~250


class AnchorDirectory:
    def __init__(self, path: Path):
        self.path = path

    def latest(self) -> Anchor | None:
        """The last anchor written (a line still being written is not one yet)."""
        for day in sorted(self.path.glob("anchors-*.jsonl"), reverse=True):
            line = _last_line(day)
            if line:
                return anchor_of_json(line)
        return None

    def write(self, anchor: Anchor) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        day = self.path / f"anchors-{anchor.at:%Y-%m-%d}.jsonl"
        fd = os.open(day, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, json_of_anchor(anchor) + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)


def _last_line(path: Path) -> bytes:
    with path.open("rb") as f:
        f.seek(max(0, f.seek(0, os.SEEK_END) - _TAIL))
        complete = f.read().rpartition(b"\n")[0]
    return complete.rpartition(b"\n")[2]


def json_of_anchor(anchor: Anchor) -> bytes:
    fields = ("seq", "hash", "at", "key_id", "signature")
    return orjson.dumps({f: getattr(anchor, f) for f in fields}, option=orjson.OPT_UTC_Z)


def anchor_of_json(line: bytes) -> Anchor:
    value = orjson.loads(line)
    at = datetime.fromisoformat(value["at"])
    return Anchor(value["seq"], value["hash"], at, value["key_id"], value["signature"])


def store_of(settings: AuditSettings) -> AnchorDirectory | None:
    """The anchors' directory, when one is configured."""
    return AnchorDirectory(settings.audit_anchor_dir) if settings.audit_anchor_dir else None
