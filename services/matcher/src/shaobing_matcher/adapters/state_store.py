"""The states of this worker's partitions (a person's, an enrolment's members), on disk
(RocksDB) or in memory; one store per batched stream.

Keys are the partition (two bytes) then the state's key (the person's, the enrolment's), so one
partition's keys can be listed in order by the daily sweep; beside them, per partition, the
offset of the last changelog record the states include, written in the same atomic batch:
recovery reads the changelog from there.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Protocol

from rocksdict import BlockBasedOptions, Options, Rdict, WriteBatch

_OFFSETS = b"\xff\xff"  # no partition has this prefix


def _prefix(partition: int) -> bytes:
    return partition.to_bytes(2, "big")


def _offset_key(partition: int) -> bytes:
    return _OFFSETS + _prefix(partition)


class StateStore(Protocol):
    """What a batched stream needs of a store (RocksStore, MemoryStore)."""

    def get_many(self, partition: int, keys: list[bytes]) -> list[bytes | None]: ...

    def write(self, partition: int, states: Mapping[bytes, bytes], offset: int) -> None: ...

    def changelog_offset(self, partition: int) -> int | None: ...

    def keys(self, partition: int) -> Iterator[bytes]: ...

    def close(self) -> None: ...


def open_store(url: str, path: Path) -> StateStore:
    """`rocksdb://` (a RocksDB in the folder `path`) or `memory://` (rebuilt from the
    changelog)."""
    if url.startswith("rocksdb:"):
        return RocksStore(path)
    if url.startswith("memory:"):
        return MemoryStore()
    raise ValueError(f"MATCHER_STORE: unknown store {url!r} (rocksdb:// or memory://)")


class RocksStore:
    """On disk, for large populations: only the changelog's tail is read after a restart."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        options = Options(raw_mode=True)
        options.create_if_missing(True)
        # A person not seen before (most of a first load) is looked up in every file without a
        # filter: 6.4 µs a key in a multi-get, 1.6 µs with one (10 bits a key, 1 % false hits).
        table = BlockBasedOptions()
        table.set_bloom_filter(10, False)
        options.set_block_based_table_factory(table)
        self._db = Rdict(str(path), options=options)

    def get_many(self, partition: int, keys: list[bytes]) -> list[bytes | None]:
        """Each key's state (None: not known), in one multi-get."""
        prefix = _prefix(partition)
        return self._db[[prefix + k for k in keys]]

    def write(self, partition: int, states: Mapping[bytes, bytes], offset: int) -> None:
        """The states and the changelog offset they reach, atomically."""
        batch, prefix = WriteBatch(raw_mode=True), _prefix(partition)
        for key, value in states.items():
            batch.put(prefix + key, value)
        batch.put(_offset_key(partition), offset.to_bytes(8, "big", signed=True))
        self._db.write(batch)

    def changelog_offset(self, partition: int) -> int | None:
        stored = self._db.get(_offset_key(partition))
        return None if stored is None else int.from_bytes(stored, "big", signed=True)

    def keys(self, partition: int) -> Iterator[bytes]:
        prefix = _prefix(partition)
        for key in self._db.keys(from_key=prefix):
            if not key.startswith(prefix):
                return
            yield key[2:]

    def close(self) -> None:
        self._db.close()


class MemoryStore:
    """In dicts, rebuilt from the whole changelog at every start (development, tests)."""

    def __init__(self) -> None:
        self._states: dict[int, dict[bytes, bytes]] = {}
        self._offsets: dict[int, int] = {}

    def get_many(self, partition: int, keys: list[bytes]) -> list[bytes | None]:
        states = self._states.get(partition, {})
        return [states.get(k) for k in keys]

    def write(self, partition: int, states: Mapping[bytes, bytes], offset: int) -> None:
        self._states.setdefault(partition, {}).update(states)
        self._offsets[partition] = offset

    def changelog_offset(self, partition: int) -> int | None:
        return self._offsets.get(partition)

    def keys(self, partition: int) -> Iterator[bytes]:
        yield from list(self._states.get(partition, {}))

    def close(self) -> None:
        self._states.clear()
