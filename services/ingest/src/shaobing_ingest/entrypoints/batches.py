"""POST /v1/sources/{source}/batches: a CSV export streamed in, stored chunk by chunk.

UTF-8 (with or without BOM) or GB18030 (`?encoding=gb18030` or `charset=gb18030`), a header row
naming the table's columns, then one record per line. Millions of rows are never held at once:
every CHUNK rows are parsed, stored and counted, and the progress can be read at
GET /v1/sources/{source}/batches/{batch_id} while the file is still arriving.
"""

from __future__ import annotations

import codecs
import csv
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel

from shaobing_contracts.provenance import Channel, SourceSystem
from shaobing_runtime.access import Principal, Role
from shaobing_runtime.body_caps import BodyTooLarge

from ..adapters.batch_store import get_batch, record_progress, start_batch
from ..domain.cdc.csv_rows import BadHeader, check_header, csv_row_change, table_of
from ..domain.intake import ItemOutcome
from ..domain.sources.tables import ChangeRejected
from .intake_flow import COUNTS, IntakeCounts, store_batch
from .source_access import Feed, source_access

router = APIRouter(prefix="/v1/sources", tags=["sources"])
Reader = Annotated[Principal, source_access(Role.FEED, Role.OPS, Role.ADMIN)]
CHUNK = 5000
ENCODINGS = {"utf-8": "utf-8-sig", "utf8": "utf-8-sig", "gb18030": "gb18030"}


LISTED = 1000  # rejections and ignored rows listed in a batch's answer; the counts are all


class BatchResult(IntakeCounts):
    """A file's outcome: every row counted, the first LISTED problems listed (all of them are
    dead letters: GET /v1/dead-letters?source=…). Event ids are not listed: a file of millions
    would be an answer of hundreds of megabytes."""

    batch_id: str
    rows_read: int
    lists_truncated: bool = False

    def add(self, chunk: IntakeCounts) -> None:
        """Fold a chunk's outcome into the file's."""
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + getattr(chunk, name))
        for listed, more in (
            (self.rejections, chunk.rejections),
            (self.ignored_items, chunk.ignored_items),
        ):
            room = max(LISTED - len(listed), 0)
            listed += more[:room]
            self.lists_truncated |= len(more) > room


class BatchProgress(BaseModel):
    id: str
    source: str
    status: str
    rows_read: int
    accepted: int
    duplicates: int
    dead_lettered: int
    ignored: int
    error: str | None
    started_at: datetime
    updated_at: datetime


@router.post("/{source}/batches", response_model=BatchResult)
async def post_batch(
    request: Request,
    source: SourceSystem,
    principal: Feed,
    encoding: Annotated[str | None, Query(pattern="^(?i)(utf-?8|gb18030)$")] = None,
    batch_id: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.-]{1,64}$")] = None,
) -> BatchResult:
    """Stream a CSV export in; bad rows are dead letters naming the row, the rest lands. A file
    beyond INGEST_MAX_CSV_BYTES is refused with 413, a line beyond INGEST_MAX_CSV_LINE_LENGTH
    characters with 422; the chunks stored before stay, as after any error in the file."""
    batch_id = batch_id or uuid.uuid4().hex
    if not await start_batch(request.app.state.pool, batch_id, source.value):
        raise HTTPException(409, f"batch_id: {batch_id} was used before")
    result = BatchResult(batch_id=batch_id, rows_read=0)
    try:
        await _stream(request, source, _codec(request, encoding), result)
    except (UnicodeDecodeError, BadHeader, LineTooLong) as exc:
        await _progress(request, result, "FAILED", str(exc))
        status = 422 if isinstance(exc, LineTooLong) else 400
        raise HTTPException(status, f"body: {_describe(exc)}") from exc
    except BodyTooLarge as exc:  # past INGEST_MAX_CSV_BYTES: the chunks stored before stay
        await _progress(request, result, "FAILED", exc.detail)
        raise
    except BaseException:
        await _progress(request, result, "FAILED", "interrupted; see the ingest log")
        raise
    await _progress(request, result, "DONE")
    return result


@router.get("/{source}/batches/{batch_id}", response_model=BatchProgress)
async def batch_progress(
    request: Request, source: SourceSystem, batch_id: str, principal: Reader
) -> BatchProgress:
    """How far a CSV batch has come (rows read and their outcomes so far)."""
    row = await get_batch(request.app.state.pool, source.value, batch_id)
    if row is None:
        raise HTTPException(404, "batch not found")
    return BatchProgress.model_validate(dict(row))


async def _stream(request: Request, source: SourceSystem, codec: str, result: BatchResult) -> None:
    table, header = table_of(source), None
    chunk: list[tuple[int, str]] = []
    cap = request.app.state.settings.max_csv_line_length
    async for lines in _lines(request, codec, cap):
        for number, line in lines:
            if header is None:
                header = check_header(table, _header_fields(line))
                continue
            chunk.append((number, line))
            if len(chunk) == CHUNK:
                await _store_chunk(request, source, header, chunk, result)
                chunk = []
    if header is None:
        raise BadHeader("header: the file has no header row")
    await _store_chunk(request, source, header, chunk, result)


async def _store_chunk(
    request: Request,
    source: SourceSystem,
    header: list[str],
    chunk: list[tuple[int, str]],
    result: BatchResult,
) -> None:
    if not chunk:
        return
    table = table_of(source)
    may_hold_nul = any("\x00" in line for _, line in chunk)
    parsed: list = []
    for index, (number, line) in enumerate(chunk):
        try:
            fields = _fields(line, number)
            parsed.append(csv_row_change(table, header, fields, number, may_hold_nul=may_hold_nul))
        except ChangeRejected as exc:
            parsed.append(ItemOutcome(index, "dead_lettered", field=exc.field, reason=exc.reason))
    stored = await store_batch(
        request.app.state,
        parsed,
        lambda i: chunk[i][1].encode(),
        [n for n, _ in chunk],
        source=source.value,
        channel=Channel.CSV,
    )
    result.add(stored)
    result.rows_read += len(chunk)
    await _progress(request, result, "RUNNING")


class LineTooLong(ValueError):
    """A line longer than INGEST_MAX_CSV_LINE_LENGTH: no row of an upstream table is, and a
    file without line breaks would otherwise be held whole."""

    def __init__(self, number: int, cap: int) -> None:
        super().__init__(f"line {number} is longer than {cap} characters")


async def _lines(request: Request, codec: str, cap: int) -> AsyncIterator[list[tuple[int, str]]]:
    """(line number, text) of every non-empty line, decoded incrementally, a list per read;
    LineTooLong, after the lines before it, for a line (complete or still arriving) longer
    than `cap`."""
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    pending, number = "", 0
    async for data in request.stream():
        pending += decoder.decode(data)
        *lines, pending = pending.split("\n")
        too_long = _first_longer([*lines, pending], cap)
        yield _numbered(lines[:too_long], number)
        if too_long is not None:
            raise LineTooLong(number + too_long + 1, cap)
        number += len(lines)
    yield _numbered([pending + decoder.decode(b"", final=True)], number)


def _first_longer(lines: list[str], cap: int) -> int | None:
    """The index of the first line longer than `cap`, if any."""
    if max(map(len, lines)) <= cap:
        return None
    return next(i for i, line in enumerate(lines) if len(line) > cap)


def _numbered(lines: list[str], number: int) -> list[tuple[int, str]]:
    """The non-empty lines with their numbers, the first being number + 1."""
    return [(number + i, line.rstrip("\r")) for i, line in enumerate(lines, 1) if line.strip()]


def _fields(line: str, number: int) -> list[str]:
    if line and '"' not in line and "\r" not in line:  # nothing quoted: split as csv would
        return line.split(",")
    try:
        return next(csv.reader([line]))
    except csv.Error as exc:
        raise ChangeRejected(None, f"row {number}: {exc}") from exc


def _header_fields(line: str) -> list[str]:
    try:
        return _fields(line, 1)
    except ChangeRejected as exc:
        raise BadHeader(f"header: {exc.reason}") from exc


def _codec(request: Request, encoding: str | None) -> str:
    charset = request.headers.get("content-type", "").partition("charset=")[2].strip().lower()
    name = (encoding or charset or "utf-8").lower()
    if name not in ENCODINGS:
        raise HTTPException(415, f"encoding: {name} is not supported (utf-8, gb18030)")
    return ENCODINGS[name]


def _describe(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return f"not valid {exc.encoding} ({exc.reason})"
    return str(exc)


async def _progress(
    request: Request, result: BatchResult, status: str, error: str | None = None
) -> None:
    await record_progress(
        request.app.state.pool,
        result.batch_id,
        rows_read=result.rows_read,
        counts=result.model_dump(),
        status=status,
        error=error,
    )
