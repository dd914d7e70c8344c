"""A payout run's files — the payout file and the held and stopped — counted, audited and
streamed the same way."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

import asyncpg
from fastapi import Request, Response

from shaobing_runtime import audit
from shaobing_runtime.access import Principal

from ..common.domain.exports import Columns
from ..common.downloads import check_size, download, scoped_chunks
from .adapters import payout_queries as runs
from .domain.payout_files import EXCEPTION_COLUMNS, PAYOUT_COLUMNS, exception_row, payable_row


@dataclass(frozen=True)
class RunFile:
    """One of a run's files: what it is called, counts, reads and shows."""

    what: str  # payout_run.export.<what> in the audit trail
    count: Callable[[asyncpg.Connection, UUID], Awaitable[int]]
    read: Callable[[asyncpg.Connection, UUID], AsyncIterator[list[asyncpg.Record]]]
    row: Callable[[asyncpg.Record, Principal], dict]
    columns: Columns
    name: str
    title: str
    flagged: Callable[[asyncpg.Connection, UUID], Awaitable[list[str]]] | None = None


PAYOUT_FILE = RunFile(
    "payout_file",
    runs.count_payout_rows,
    runs.payout_rows,
    payable_row,
    PAYOUT_COLUMNS,
    "payout",
    "发放 Payout",
    flagged=runs.changed_to_pay,  # written after the check: paid as checked, named in the audit
)
EXCEPTIONS_FILE = RunFile(
    "exceptions",
    runs.count_exception_rows,
    runs.exception_rows,
    exception_row,
    EXCEPTION_COLUMNS,
    "held-stopped",
    "暂停停发 Held",
)


async def audit_export(
    request: Request, conn, principal: Principal, run, file: RunFile, format: str
) -> None:
    """Count the rows (422 for an XLSX beyond its cap) and record the export, committed before
    the first row leaves; `rows` as counted then."""
    rows = await file.count(conn, run["id"])
    check_size(format, rows, request.app.state.settings.max_xlsx_rows)
    flagged = {"changed_since_check": await file.flagged(conn, run["id"])} if file.flagged else {}
    await audited(conn, principal, run, f"export.{file.what}", format=format, rows=rows, **flagged)


async def audited(conn, principal: Principal, run, action: str, **details) -> None:
    """One audit entry `payout_run.<action>` of the run, with its month."""
    entry = audit.entry_of(
        principal,
        f"payout_run.{action}",
        "payout_run",
        str(run["id"]),
        run["area"],
        month=run["month"],
        **details,
    )
    await audit.append(conn, [entry])


def run_file(request: Request, principal: Principal, run, file: RunFile, format: str) -> Response:
    """The file streamed from a connection of its own, a chunk of rows at a time."""
    chunks = scoped_chunks(
        request.app.state.pool,
        principal,
        lambda conn: file.read(conn, run["id"]),
        lambda row: file.row(row, principal),
    )
    return download(
        chunks,
        columns=file.columns,
        principal=principal,
        at=request.app.state.settings.local_now(),
        shown={"run": str(run["id"]), "month": run["month"], "area": run["area"]},
        format=format,
        name=f"{file.name}-{run['month']}-{run['area']}",
        title=file.title,
    )
