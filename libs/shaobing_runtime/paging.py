"""Opaque keyset cursors for every `GET /v1/<things>` collection: the last row's seq."""

from __future__ import annotations

import base64


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(str(seq).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The seq inside an opaque cursor; ValueError when it was not one of ours."""
    padded = cursor + "=" * (-len(cursor) % 4)
    return int(base64.urlsafe_b64decode(padded.encode()).decode())
