"""A list as a watermarked CSV or XLSX download (the queue, the payout file, held and stopped),
streamed: rows are read and written a chunk at a time, never held whole."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from typing import Any

import asyncpg
from fastapi import HTTPException
from fastapi.responses import StreamingResponse

from shaobing_runtime.access import Principal
from shaobing_runtime.database import scoped

from .domain import exports

MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMAT = "^(csv|xlsx)$"
Chunks = AsyncIterator[list[Mapping[str, Any]]]
_SPOOLED = 8 * 1024 * 1024  # the finished XLSX stays in memory up to this, then on disk
_BLOCK = 64 * 1024


def check_size(format: str, rows: int, max_xlsx_rows: int) -> None:
    """422 naming the format when an XLSX would hold more rows than allowed (CSV has no cap)."""
    if format == "xlsx" and rows > max_xlsx_rows:
        raise HTTPException(
            422, f"format: xlsx holds at most {max_xlsx_rows} rows, not {rows}; use format=csv"
        )


async def scoped_chunks(
    pool: asyncpg.Pool,
    principal: Principal,
    read: Callable[[asyncpg.Connection], AsyncIterator[list[asyncpg.Record]]],
    shown: Callable[[asyncpg.Record], Mapping[str, Any]],
) -> Chunks:
    """The rows `read` gives on a connection scoped to the caller, each as `shown`."""
    async with scoped(pool, principal) as conn:
        async for records in read(conn):
            yield [shown(r) for r in records]


def download(
    chunks: Chunks,
    *,
    columns: exports.Columns,
    principal: Principal,
    at: datetime,
    shown: Mapping[str, Any],
    format: str,
    name: str,
    title: str,
) -> StreamingResponse:
    """The file with the watermark (who, role, when, which filter) as its first row."""
    mark = exports.watermark(principal.subject, principal.role.value, at, shown)
    if format == "csv":
        body = _csv(chunks, mark, columns)
    else:
        body = _xlsx(chunks, exports.XlsxFile(mark, principal.subject, columns, title))
    filename = f"shaobing-{name}-{at:%Y%m%d-%H%M%S}.{format}"
    disposition = {"content-disposition": f'attachment; filename="{filename}"'}
    return StreamingResponse(body, media_type=MEDIA[format], headers=disposition)


async def _csv(chunks: Chunks, mark: str, columns: exports.Columns) -> AsyncIterator[bytes]:
    yield exports.csv_head(mark, columns)
    async for rows in chunks:
        yield exports.csv_rows(rows, columns)


async def _xlsx(chunks: Chunks, book: exports.XlsxFile) -> AsyncIterator[bytes]:
    """An XLSX is a zip, complete only at the end: its rows go to openpyxl's temporary file
    (off the event loop), then the file is sent in blocks."""
    async for rows in chunks:
        await asyncio.to_thread(book.append, rows)
    with tempfile.SpooledTemporaryFile(max_size=_SPOOLED) as out:
        await asyncio.to_thread(book.save, out)
        out.seek(0)
        while block := out.read(_BLOCK):
            yield block
