"""A list as a watermarked CSV or XLSX download (the queue, the payout file, held and stopped)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from fastapi import Response

from shaobing_runtime.access import Principal

from ..domain import exports

MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMAT = "^(csv|xlsx)$"


def download(
    rows: Sequence[Mapping[str, Any]],
    *,
    columns: exports.Columns,
    principal: Principal,
    at: datetime,
    shown: Mapping[str, Any],
    format: str,
    name: str,
    title: str,
) -> Response:
    """The file with the watermark (who, role, when, which filter) as its first row."""
    mark = exports.watermark(principal.subject, principal.role.value, at, shown)
    if format == "csv":
        body = exports.as_csv(rows, mark, columns)
    else:
        body = exports.as_xlsx(rows, mark, principal.subject, columns, title)
    filename = f"shaobing-{name}-{at:%Y%m%d-%H%M%S}.{format}"
    disposition = {"content-disposition": f'attachment; filename="{filename}"'}
    return Response(body, media_type=MEDIA[format], headers=disposition)
