"""Splitting a posted body into items: one JSON value, a JSON array, or NDJSON lines.

An array of Debezium values is decoded in one pass straight into typed values (debezium.py);
each item's own text is only cut out of the body when it is needed, for a dead letter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec

from .debezium import DebeziumValue, decode_value, decode_values


class UnparseableBody(ValueError):
    """The body as a whole is not JSON, a JSON array or NDJSON; the message says why."""


@dataclass(slots=True)  # one per item: a frozen dataclass's __init__ costs 4x
class BodyItem:
    index: int
    value: object = None  # a DebeziumValue, or the plain JSON value when it does not fit one
    error: str | None = None  # set when this one item is not JSON


@dataclass(slots=True)
class SplitBody:
    items: list[BodyItem]
    texts: Callable[[], list[bytes]]  # every item's own text, in order: cut on demand
    _cut: list[bytes] | None = field(default=None, repr=False)

    def raw(self, index: int) -> bytes:
        """The text of item `index`, for its dead letter."""
        if self._cut is None:
            self._cut = self.texts()
        return self._cut[index]


_ITEMS = msgspec.json.Decoder(list[msgspec.Raw])
_NUL_ESCAPE = re.compile(rb"\\u0000")  # a regex finds it twice as fast as `in` in Debezium JSON


def may_hold_nul(*texts: bytes) -> bool:
    """Whether JSON text may decode to a NUL character (U+0000, which PostgreSQL text cannot
    hold): only through the escape \\u0000. Where none has it, the search per change is skipped."""
    return any(_NUL_ESCAPE.search(text) for text in texts)


def item_of(index: int, raw: bytes, error_prefix: str) -> BodyItem:
    """An item whose error, if it is not JSON, starts with `error_prefix`."""
    try:
        return BodyItem(index, decode_value(raw))
    except msgspec.DecodeError as exc:
        return BodyItem(index, error=f"{error_prefix} is not JSON: {exc}")


def split_body(body: bytes) -> SplitBody:
    """Items of the body in order; a bad NDJSON line is an item with an error, not a failure."""
    if not body.strip():
        raise UnparseableBody("body is empty")
    if not body.isascii():
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UnparseableBody(f"body is not UTF-8 (byte {exc.start})") from exc
    try:
        values = decode_values(body)
    except msgspec.ValidationError:  # not an array: one value, or NDJSON
        return _single(body)
    except msgspec.DecodeError:
        return _array_with_bad_text(body) or _ndjson(body)
    if values is None:  # an array with items that are no Debezium value: item by item
        raws = [bytes(raw) for raw in _ITEMS.decode(body)]
        return SplitBody([item_of(i, raw, f"item {i}") for i, raw in enumerate(raws)], lambda: raws)
    return SplitBody(
        [BodyItem(i, value) for i, value in enumerate(values)],
        lambda: [bytes(raw) for raw in _ITEMS.decode(body)],
    )


def _array_with_bad_text(body: bytes) -> SplitBody | None:
    """A JSON array that only a lenient parser reads: items with an unpaired surrogate escape
    (\\ud800), which is no Unicode text, are bad items; the others go through as usual."""
    try:
        values = json.loads(body)
    except ValueError:
        return None
    if not isinstance(values, list):
        return None
    raws = [_lenient_text(value) for value in values]
    items = [
        BodyItem(i, error=f"item {i} holds text that is not Unicode (an unpaired surrogate)")
        if raw is None
        else item_of(i, raw, f"item {i}")
        for i, raw in enumerate(raws)
    ]
    return SplitBody(
        items, lambda: [raw or json.dumps(v).encode() for raw, v in zip(raws, values, strict=True)]
    )


def _lenient_text(value: object) -> bytes | None:
    """The item's JSON text, or None when it holds text that is not Unicode."""
    try:
        return json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return None


def _single(body: bytes) -> SplitBody:
    try:
        value = decode_value(body)
    except msgspec.DecodeError:
        return _ndjson(body)
    if not isinstance(value, DebeziumValue | dict):
        raise UnparseableBody("body must be a JSON object, a JSON array or NDJSON")
    return SplitBody([BodyItem(0, value)], lambda: [body])


def _ndjson(body: bytes) -> SplitBody:
    lines = [line for line in body.splitlines() if line.strip()]
    items = [item_of(i, line, f"line {i + 1}") for i, line in enumerate(lines)]
    if len(lines) < 2 or all(item.error for item in items):
        raise UnparseableBody(f"body is neither JSON nor NDJSON: {items[0].error}")
    return SplitBody(items, lambda: lines)
