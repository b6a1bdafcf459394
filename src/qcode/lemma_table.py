"""simplemma's Swedish dictionary as a memory-mapped hash table in the user's cache folder.

simplemma ships its dictionaries front-coded and lzma-compressed; decoding the Swedish one
(964k word -> lemma entries) takes about 0.75 s and, as a Python dict, about 180 MB of every
process's memory. ``qcode tag`` needs a few hundred thousand lookups at most, so the decoded
entries are written once into a file laid out as an open-addressing hash table and read
through ``mmap``: opening it costs a few milliseconds, its pages are shared by every process
(forked tag workers included) through the operating system's page cache, and a lookup is a
hash, one or two slot reads and a byte comparison.

File layout (little-endian)::

    header   MAGIC, then entries, slots, data length, crc32 of everything after the header
    slots    one uint64 per slot, 0 when empty: bits 0-31 are 1 + the entry's offset in
             ``data``, bits 32-47 the key's length, bits 48-63 the top half of its crc32
    data     per entry: key bytes, uint16 value length, value bytes (UTF-8)

A key lives in the first free slot from ``crc32(key) & (slots - 1)`` on (linear probing, the
table at most a quarter full). The length and hash half in the slot let a lookup pass over
other keys' slots without reading their entries. The file holds public dictionary data only,
never project material, and unlike a pickle it cannot run code; one that does not check out
(size, magic, checksum, an entry outside the file) is not used.
"""

from __future__ import annotations

import mmap
import struct
import sys
import zlib
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from simplemma.strategies.dictionaries.dictionary_factory import DecodedStrMapping

MAGIC = b"qcode-lemma-table-2\0"
_HEADER = struct.Struct("<20sQQQI")  # magic, entries, slots, data length, crc32 of the body
_LENGTH = struct.Struct("<H")


class LemmaTableError(ValueError):
    """The file is not a complete table written from :func:`build_table`'s bytes."""


def _slot_count(entries: int) -> int:
    """The smallest power of two above four times ``entries`` (a table at most a quarter
    full: a miss then ends after ~1.4 slots on average)."""
    return 1 << max(4, (4 * entries).bit_length())


def build_table(decoded: dict[bytes, bytes]) -> bytes:
    """The file's bytes for ``decoded`` (simplemma's word -> lemma entries, UTF-8 bytes).

    Raises :class:`LemmaTableError` for entries the layout cannot hold (over 64 KiB)."""
    slots = array("Q", bytes(8 * _slot_count(len(decoded))))
    mask = len(slots) - 1
    data = bytearray()
    for key, value in decoded.items():
        if len(key) > 0xFFFF or len(value) > 0xFFFF:
            raise LemmaTableError("an entry is longer than 64 KiB")
        hashed = zlib.crc32(key)
        slot = hashed & mask
        while slots[slot]:
            slot = (slot + 1) & mask
        slots[slot] = (hashed >> 16) << 48 | len(key) << 32 | (len(data) + 1)
        data += key
        data += _LENGTH.pack(len(value))
        data += value
    if len(data) >= 0xFFFFFFFF:
        raise LemmaTableError("the dictionary is larger than 4 GiB")
    if sys.byteorder != "little":
        slots.byteswap()
    body = slots.tobytes() + bytes(data)
    header = _HEADER.pack(MAGIC, len(decoded), len(slots), len(data), zlib.crc32(body))
    return header + body


def _largest(slots: memoryview) -> int:
    """The largest slot value (1 + an entry's offset): every entry must lie inside the file."""
    import numpy

    return int((numpy.frombuffer(slots, dtype="<u8") & 0xFFFFFFFF).max())


class LemmaTable(DecodedStrMapping):
    """A read-only ``str -> str`` mapping over a table file, for simplemma's strategies.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "t.table"
    >>> _ = path.write_bytes(build_table({"polisen".encode(): b"polis"}))
    >>> table = LemmaTable(path)
    >>> table.get("polisen"), table.get("polis"), len(table)
    ('polis', None, 1)
    """

    __slots__ = ("_map", "_slots", "_mask", "_data", "_entries")

    def __init__(self, path: str | Path):
        with open(path, "rb") as handle:
            try:
                self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            except ValueError as error:  # an empty file cannot be mapped
                raise LemmaTableError(f"{path}: {error}") from None
        size = len(self._map)
        if size < _HEADER.size:
            raise LemmaTableError(f"{path}: too short for a lemma table")
        magic, entries, n_slots, data_length, checksum = _HEADER.unpack_from(self._map, 0)
        if magic != MAGIC or n_slots != _slot_count(entries):
            raise LemmaTableError(f"{path}: not a qcode lemma table")
        if size != _HEADER.size + 8 * n_slots + data_length:
            raise LemmaTableError(f"{path}: truncated or padded")
        body = memoryview(self._map)[_HEADER.size :]
        if zlib.crc32(body) != checksum:
            body.release()
            raise LemmaTableError(f"{path}: checksum does not match")
        slots = body[: 8 * n_slots]
        if n_slots and _largest(slots) > max(data_length - 1, 0):
            body.release()
            raise LemmaTableError(f"{path}: an entry lies outside the table")
        self._slots: memoryview | array[int]
        if sys.byteorder == "little":
            self._slots = slots.cast("Q")
        else:
            swapped = array("Q", slots)
            swapped.byteswap()
            self._slots = swapped
        self._data = _HEADER.size + 8 * n_slots  # where entry offsets start in the map
        self._mask = n_slots - 1
        self._entries: int = entries

    def get(self, key: str, default: Any = None) -> Any:
        """The lemma entry for ``key``, else ``default``. The hot path (simplemma's strategies
        call it ~20 times per new word), so it does its work in one frame."""
        raw = key.encode()
        hashed = zlib.crc32(raw)
        tag = (hashed >> 16) << 16 | len(raw)
        slots, mask = self._slots, self._mask
        slot = hashed & mask
        while entry := slots[slot]:
            if entry >> 32 == tag:
                mapped = self._map
                at = self._data + (entry & 0xFFFFFFFF) - 1
                end = at + len(raw)
                if mapped[at:end] == raw:
                    value_length = mapped[end] | mapped[end + 1] << 8
                    return mapped[end + 2 : end + 2 + value_length].decode()
            slot = (slot + 1) & mask
        return default

    def _lookup(self, key: str) -> str | None:
        found: str | None = self.get(key)
        return found

    def __iter__(self) -> Iterator[str]:
        for entry in self._slots:
            if entry:
                at = self._data + (entry & 0xFFFFFFFF) - 1
                yield self._map[at : at + (entry >> 32 & 0xFFFF)].decode()

    def __len__(self) -> int:
        return self._entries
