"""Opaque keyset cursors for every `GET /v1/<things>` collection: the last row's seq."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import Depends, HTTPException


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(str(seq).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The seq inside an opaque cursor; ValueError when it was not one of ours."""
    padded = cursor + "=" * (-len(cursor) % 4)
    return int(base64.urlsafe_b64decode(padded.encode()).decode())


def cursor_seq(cursor: str | None = None) -> int | None:
    """The `cursor` query parameter as a seq, for FastAPI; 422 when this api did not issue it."""
    if not cursor:
        return None
    try:
        return decode_cursor(cursor)
    except ValueError as exc:
        raise HTTPException(422, "cursor: not a cursor this api issued") from exc


CursorSeq = Annotated[int | None, Depends(cursor_seq)]


def encode_text_cursor(key: str) -> str:
    """A cursor for collections paged by a text key (e.g. enrolment_id)."""
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def cursor_text(cursor: str | None = None) -> str:
    """The `cursor` query parameter as the text key after which to continue ("" from the start)."""
    if not cursor:
        return ""
    try:
        return base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
    except ValueError as exc:
        raise HTTPException(422, "cursor: not a cursor this api issued") from exc


CursorText = Annotated[str, Depends(cursor_text)]
