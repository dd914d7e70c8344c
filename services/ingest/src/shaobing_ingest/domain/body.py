"""Splitting a posted body into items: one JSON value, a JSON array, or NDJSON lines."""

from __future__ import annotations

from dataclasses import dataclass

import orjson


class UnparseableBody(ValueError):
    """The body as a whole is not JSON, a JSON array or NDJSON; the message says why."""


@dataclass(frozen=True)
class BodyItem:
    index: int
    raw: bytes  # this item's own text, kept for dead letters
    value: object = None
    error: str | None = None  # set when this one item is not JSON


def split_body(body: bytes) -> list[BodyItem]:
    """Items of the body in order; a bad NDJSON line is an item with an error, not a failure."""
    if not body.strip():
        raise UnparseableBody("body is empty")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnparseableBody(f"body is not UTF-8 (byte {exc.start})") from exc
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _ndjson(body)
    if isinstance(value, list):
        return [BodyItem(i, orjson.dumps(v), v) for i, v in enumerate(value)]
    if isinstance(value, dict) or value is None:
        return [BodyItem(0, body, value)]
    raise UnparseableBody("body must be a JSON object, a JSON array or NDJSON")


def _ndjson(body: bytes) -> list[BodyItem]:
    lines = [line for line in body.splitlines() if line.strip()]
    items = [_line(i, line) for i, line in enumerate(lines)]
    if len(lines) < 2 or all(item.error for item in items):
        raise UnparseableBody(f"body is neither JSON nor NDJSON: {items[0].error}")
    return items


def _line(index: int, line: bytes) -> BodyItem:
    try:
        return BodyItem(index, line, orjson.loads(line))
    except orjson.JSONDecodeError as exc:
        return BodyItem(index, line, error=f"line {index + 1} is not JSON: {exc}")
