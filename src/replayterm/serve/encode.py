"""Normalized messages as JSON text, a whole chunk of messages at a time.

Messages are assembled by compiled loops from *pieces*: byte ranges of one per-chunk ``Pool``
that holds the literal parts of the templates, every distinct number of the chunk formatted once
(as JavaScript's ``JSON.stringify`` would print it, so the text matches tardis-machine's), and
every timestamp rendered by a compiled formatter. A message kind is a list of piece columns;
``assemble`` concatenates them row by row. This does no Python work per message (Arrow's
``strftime`` and element-wise joins were measured 20-50x slower per message than this).

Field names and order follow tardis-node's normalized types; times are ISO-8601 UTC with
microseconds; an absent snapshot level is ``{}`` (tardis-node's
``{price: undefined, amount: undefined}``). ``Lines`` carries one chunk: the texts (an Arrow
string array) plus the key that merges chunks of several kinds and symbols into receive-time
order.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from decimal import Decimal

import numba as nb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

Piece = tuple[np.ndarray, np.ndarray]  # (start, length) per message, into the pool


class Pool:
    """Bytes referenced by pieces; literals are stored once."""

    def __init__(self) -> None:
        self._parts: list[np.ndarray] = []
        self._size = 0
        self._literals: dict[bytes, tuple[int, int]] = {}

    def add(self, data: bytes | np.ndarray) -> int:
        arr = np.frombuffer(data, dtype=np.uint8) if isinstance(data, bytes) else data
        start = self._size
        self._parts.append(arr)
        self._size += int(arr.shape[0])
        return start

    def literal(self, text: str) -> tuple[int, int]:
        data = text.encode()
        found = self._literals.get(data)
        if found is None:
            found = (self.add(data), len(data))
            self._literals[data] = found
        return found

    def data(self) -> np.ndarray:
        if not self._parts:
            return np.empty(0, dtype=np.uint8)
        if len(self._parts) > 1:
            self._parts = [np.concatenate(self._parts)]
        return self._parts[0]


@dataclass(frozen=True)
class Lines:
    """Encoded messages with their merge key: (receive time, stream order, item, sub-order)."""

    text: pa.StringArray
    local_ts: np.ndarray  # int64 µs, the merge time
    stream: np.ndarray  # int32, order of streams at equal times
    item: np.ndarray  # int64, position in the stream
    sub: np.ndarray  # int8, order of several lines of one item (a source message, then computed ones)

    def __len__(self) -> int:
        return len(self.text)

    @classmethod
    def make(cls, text: pa.Array, local_ts: np.ndarray, stream: int, item: np.ndarray, sub: int = 0) -> Lines:
        n = len(text)
        return cls(
            text,
            np.asarray(local_ts, dtype=np.int64),
            np.full(n, stream, dtype=np.int32),
            np.asarray(item, dtype=np.int64),
            np.full(n, sub, dtype=np.int8),
        )

    @property
    def nbytes(self) -> int:
        """Bytes of JSON text (without framing)."""
        n = len(self.text)
        if n == 0:
            return 0
        offsets = self.text.buffers()[1]
        o = np.frombuffer(offsets, dtype=np.int32, count=self.text.offset + n + 1)
        return int(o[-1] - o[self.text.offset])

    def slice(self, start: int, stop: int | None = None) -> Lines:
        stop = len(self) if stop is None else stop
        return Lines(
            self.text.slice(start, stop - start),
            self.local_ts[start:stop],
            self.stream[start:stop],
            self.item[start:stop],
            self.sub[start:stop],
        )

    def take(self, keep: np.ndarray) -> Lines:
        idx = np.flatnonzero(keep)
        return Lines(
            self.text.take(pa.array(idx)), self.local_ts[idx], self.stream[idx], self.item[idx], self.sub[idx]
        )


EMPTY: pa.StringArray = pa.array([], pa.string())
NO_LINES = Lines.make(EMPTY, np.empty(0, np.int64), 0, np.empty(0, np.int64))


def concat(parts: list[Lines]) -> Lines:
    """Lines already in order one after the other (a chunk, then the next one)."""
    parts = [p for p in parts if len(p)]
    if len(parts) <= 1:
        return parts[0] if parts else NO_LINES
    return Lines(
        pa.concat_arrays([p.text for p in parts]),
        *(np.concatenate([getattr(p, k) for p in parts]) for k in ("local_ts", "stream", "item", "sub")),
    )


def merge(parts: list[Lines]) -> Lines:
    """All lines of ``parts`` in merge-key order (receive time, stream, item, sub-order)."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return NO_LINES
    if len(parts) == 1:
        return parts[0]
    text = pa.concat_arrays([p.text for p in parts])
    keys = [np.concatenate([getattr(p, k) for p in parts]) for k in ("sub", "item", "stream", "local_ts")]
    order = np.lexsort(keys)
    return Lines(text.take(pa.array(order)), keys[3][order], keys[2][order], keys[1][order], keys[0][order])


# -- numbers -----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1 << 17)
def js_number(value: float) -> str:
    """``value`` as JavaScript prints it (shortest round trip; exponent only below 1e-6 / from 1e21)."""
    if value != value or value in (float("inf"), float("-inf")):
        return "null"
    text = repr(float(value))
    if "e" not in text and "E" not in text:
        return text[:-2] if text.endswith(".0") else text
    exponent = int(text.split("e")[1])
    if -7 < exponent < 21:
        plain = format(Decimal(text), "f")
        if "." in plain:
            plain = plain.rstrip("0").rstrip(".")
        return plain
    mantissa = text.split("e")[0]
    if mantissa.endswith(".0"):
        mantissa = mantissa[:-2]
    return f"{mantissa}e{'+' if exponent > 0 else '-'}{abs(exponent)}"


def numbers(pool: Pool, values: np.ndarray) -> Piece:
    """Each value formatted once per distinct value; NaN is ``null``."""
    values = np.asarray(values, dtype=np.float64)
    if values.shape[0] == 0:
        e = np.empty(0, np.int64)
        return e, e
    uniq, inverse = np.unique(values, return_inverse=True)  # NaNs sort last and collapse
    encoded = [js_number(v).encode() for v in uniq.tolist()]
    lens = np.fromiter((len(b) for b in encoded), dtype=np.int64, count=len(encoded))
    base = pool.add(b"".join(encoded))
    starts = base + np.cumsum(lens) - lens
    inverse = inverse.ravel()
    return starts[inverse], lens[inverse]


def integers(pool: Pool, values: np.ndarray) -> Piece:
    return numbers(pool, np.asarray(values, dtype=np.float64))


# -- timestamps --------------------------------------------------------------------------------

_TS_LEN = 29  # "YYYY-MM-DDTHH:MM:SS.ffffffZ" with the quotes
_TS_LEN_MS = 26  # "YYYY-MM-DDTHH:MM:SS.fffZ"


@nb.njit(cache=True, nogil=True)
def _render_ts(ts: np.ndarray, out: np.ndarray, digits: int) -> None:
    width = 23 + digits
    for i in range(ts.shape[0]):
        t = ts[i]
        days = t // 86_400_000_000
        rem = t - days * 86_400_000_000
        # civil-from-days (Howard Hinnant's algorithm)
        z = days + 719468
        era = (z if z >= 0 else z - 146096) // 146097
        doe = z - era * 146097
        yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
        y = yoe + era * 400
        doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
        mp = (5 * doy + 2) // 153
        d = doy - (153 * mp + 2) // 5 + 1
        m = mp + 3 if mp < 10 else mp - 9
        if m <= 2:
            y += 1
        secs = rem // 1_000_000
        us = rem - secs * 1_000_000
        hh = secs // 3600
        mi = (secs // 60) % 60
        ss = secs % 60
        o = i * width
        out[o] = 34
        out[o + 1] = 48 + (y // 1000) % 10
        out[o + 2] = 48 + (y // 100) % 10
        out[o + 3] = 48 + (y // 10) % 10
        out[o + 4] = 48 + y % 10
        out[o + 5] = 45
        out[o + 6] = 48 + m // 10
        out[o + 7] = 48 + m % 10
        out[o + 8] = 45
        out[o + 9] = 48 + d // 10
        out[o + 10] = 48 + d % 10
        out[o + 11] = 84
        out[o + 12] = 48 + hh // 10
        out[o + 13] = 48 + hh % 10
        out[o + 14] = 58
        out[o + 15] = 48 + mi // 10
        out[o + 16] = 48 + mi % 10
        out[o + 17] = 58
        out[o + 18] = 48 + ss // 10
        out[o + 19] = 48 + ss % 10
        out[o + 20] = 46
        div = 100_000
        for k in range(digits):
            out[o + 21 + k] = 48 + (us // div) % 10
            div //= 10
        out[o + 21 + digits] = 90
        out[o + 22 + digits] = 34


def timestamps(pool: Pool, ts: np.ndarray, ms: bool = False) -> Piece:
    """Quoted ISO-8601 UTC times of µs values: with microseconds, or (``ms``) milliseconds.

    tardis-machine prints a time with the precision its source has: receive times and
    exchange clocks in µs with six digits, exchange clocks in ms with three (JavaScript's
    ``Date``), so a column whose every value is whole milliseconds is printed with ``ms``.
    """
    ts = np.ascontiguousarray(ts, dtype=np.int64)
    width = _TS_LEN_MS if ms else _TS_LEN
    buf = np.empty(ts.shape[0] * width, dtype=np.uint8)
    _render_ts(ts, buf, 3 if ms else 6)
    base = pool.add(buf)
    return base + np.arange(ts.shape[0], dtype=np.int64) * width, np.full(ts.shape[0], width, np.int64)


def whole_ms(ts: np.ndarray) -> bool:
    """True when every time of a column is a whole millisecond (an exchange clock in ms)."""
    ts = np.asarray(ts)
    return bool(ts.shape[0]) and not np.any(ts % 1000)


def iso_one(ts: int, ms: bool = False) -> str:
    pool = Pool()
    timestamps(pool, np.array([ts]), ms)
    return bytes(pool.data()).decode()


def json_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def strings(pool: Pool, values: pa.Array) -> tuple[Piece, np.ndarray]:
    """The contents of JSON string literals (without the quotes), and which values are present.

    Values needing no escape (nearly all: trade ids) are referenced straight from Arrow's buffer.
    """
    values = pc.cast(values, pa.string())
    present = ~np.asarray(values.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    if len(values) and pc.any(pc.match_substring_regex(values, r'["\\\x00-\x1f]')).as_py():
        encoded = [b"" if v is None else json_string(str(v))[1:-1].encode() for v in values.to_pylist()]
        lens = np.fromiter((len(b) for b in encoded), dtype=np.int64, count=len(encoded))
        base = pool.add(b"".join(encoded))
        return (base + np.cumsum(lens) - lens, lens), present
    arr = pa.concat_arrays([values]) if values.offset else values
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32, count=len(arr) + 1).astype(np.int64)
    buf = arr.buffers()[2]
    base = pool.add(np.frombuffer(buf, dtype=np.uint8) if buf is not None else np.empty(0, np.uint8))
    return (base + offsets[:-1], np.where(present, np.diff(offsets), 0)), present


# -- assembling --------------------------------------------------------------------------------


@nb.njit(cache=True, nogil=True, inline="always")
def _copy(out: np.ndarray, w: int, pool: np.ndarray, s: int, ln: int) -> int:
    for b in range(ln):
        out[w + b] = pool[s + b]
    return w + ln


@nb.njit(cache=True, nogil=True)
def _gather(
    pool: np.ndarray, starts: np.ndarray, lens: np.ndarray, out: np.ndarray, offsets: np.ndarray
) -> None:
    n, k = starts.shape
    w = 0
    for i in range(n):
        offsets[i] = w
        for j in range(k):
            w = _copy(out, w, pool, starts[i, j], lens[i, j])
    offsets[n] = w


def assemble(pool: Pool, n: int, pieces: list[tuple[int, int] | Piece]) -> pa.StringArray:
    """Concatenate the pieces of each of ``n`` messages; a piece is a literal or per-message arrays."""
    if n == 0:
        return EMPTY
    starts = np.empty((n, len(pieces)), dtype=np.int64)
    lens = np.empty((n, len(pieces)), dtype=np.int64)
    for j, piece in enumerate(pieces):
        starts[:, j] = piece[0]
        lens[:, j] = piece[1]
    offsets = np.empty(n + 1, dtype=np.int64)
    out = np.empty(int(lens.sum()), dtype=np.uint8)
    _gather(pool.data(), starts, lens, out, offsets)
    return _string_array(out, offsets)


def _string_array(data: np.ndarray, offsets: np.ndarray) -> pa.StringArray:
    n = offsets.shape[0] - 1
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data))


def optional(present: np.ndarray, piece: Piece) -> Piece:
    """A piece that is empty where ``present`` is False."""
    return piece[0], np.where(present, piece[1], 0)


def choose(flag: np.ndarray, when_true: tuple[int, int], when_false: tuple[int, int]) -> Piece:
    return np.where(flag, when_true[0], when_false[0]), np.where(flag, when_true[1], when_false[1])


def level_pieces(pool: Pool, px: np.ndarray, amt: np.ndarray, last: np.ndarray) -> list[Piece]:
    """Five pieces per level: ``{"price":P,"amount":A}`` (or ``{}``) and a comma unless ``last``."""
    missing = np.isnan(px)
    p = numbers(pool, px)
    a = numbers(pool, amt)
    n = px.shape[0]
    open_ = choose(missing, pool.literal("{}"), pool.literal('{"price":'))
    mid = choose(missing, (0, 0), pool.literal(',"amount":'))
    end_lit = pool.literal("}")
    end_comma = pool.literal("},")
    comma = pool.literal(",")
    close_start = np.where(missing, np.where(last, 0, comma[0]), np.where(last, end_lit[0], end_comma[0]))
    close_len = np.where(missing, np.where(last, 0, comma[1]), np.where(last, end_lit[1], end_comma[1]))
    zero = np.zeros(n, np.int64)
    return [
        open_,
        (p[0], np.where(missing, zero, p[1])),
        mid,
        (a[0], np.where(missing, zero, a[1])),
        (close_start, close_len),
    ]


@nb.njit(cache=True, nogil=True)
def _nested(
    pool: np.ndarray,
    head: np.ndarray,  # (n, 2) start/len of each message's head (before the first list)
    mid: np.ndarray,  # (n, 2) between the two lists
    tail: np.ndarray,  # (n, k, 2) after the second list
    list_offsets: np.ndarray,  # (2n + 1): items of list 0 of message i, then list 1, ...
    item_starts: np.ndarray,  # (items, 5)
    item_lens: np.ndarray,
    out: np.ndarray,
    offsets: np.ndarray,
) -> int:
    w = 0
    n = head.shape[0]
    for i in range(n):
        offsets[i] = w
        w = _copy(out, w, pool, head[i, 0], head[i, 1])
        for side in range(2):
            if side == 1:
                w = _copy(out, w, pool, mid[i, 0], mid[i, 1])
            for r in range(list_offsets[2 * i + side], list_offsets[2 * i + side + 1]):
                for j in range(item_starts.shape[1]):
                    w = _copy(out, w, pool, item_starts[r, j], item_lens[r, j])
        for j in range(tail.shape[1]):
            w = _copy(out, w, pool, tail[i, j, 0], tail[i, j, 1])
    offsets[n] = w
    return w


def assemble_two_lists(
    pool: Pool,
    n: int,
    head: list[tuple[int, int] | Piece],
    mid: tuple[int, int],
    tail: list[tuple[int, int] | Piece],
    list_offsets: np.ndarray,
    items: list[Piece],
) -> pa.StringArray:
    """Messages of the shape ``head + list0 + mid + list1 + tail`` (book changes and snapshots)."""
    if n == 0:
        return EMPTY
    head_arr = _fold(pool, n, head)
    mid_arr = np.empty((n, 2), dtype=np.int64)
    mid_arr[:, 0], mid_arr[:, 1] = mid
    tail_arr = np.empty((n, len(tail), 2), dtype=np.int64)
    for j, piece in enumerate(tail):
        tail_arr[:, j, 0] = piece[0]
        tail_arr[:, j, 1] = piece[1]
    m = items[0][0].shape[0] if items else 0
    item_starts = np.empty((m, len(items)), dtype=np.int64)
    item_lens = np.empty((m, len(items)), dtype=np.int64)
    for j, piece in enumerate(items):
        item_starts[:, j] = piece[0]
        item_lens[:, j] = piece[1]
    size = int(head_arr[:, 1].sum() + mid_arr[:, 1].sum() + tail_arr[:, :, 1].sum() + item_lens.sum())
    out = np.empty(size, dtype=np.uint8)
    offsets = np.empty(n + 1, dtype=np.int64)
    _nested(pool.data(), head_arr, mid_arr, tail_arr, list_offsets.astype(np.int64), item_starts, item_lens,
            out, offsets)  # fmt: skip
    return _string_array(out, offsets)


def _fold(pool: Pool, n: int, pieces: list[tuple[int, int] | Piece]) -> np.ndarray:
    """Several pieces per message folded into one contiguous piece each (copied into the pool)."""
    text = assemble(pool, n, pieces)
    data = np.frombuffer(text.buffers()[2], dtype=np.uint8) if text.buffers()[2] is not None else np.empty(0)
    offs = np.frombuffer(text.buffers()[1], dtype=np.int32, count=n + 1).astype(np.int64)
    base = pool.add(data[: offs[-1]].copy())
    out = np.empty((n, 2), dtype=np.int64)
    out[:, 0] = base + offs[:-1]
    out[:, 1] = np.diff(offs)
    return out


# -- output framing ----------------------------------------------------------------------------


def buffers(lines: pa.StringArray) -> tuple[np.ndarray, np.ndarray]:
    """The UTF-8 bytes of ``lines`` and each line's (start, end) offsets into them."""
    return _buffers(lines)


def _buffers(lines: pa.StringArray) -> tuple[np.ndarray, np.ndarray]:
    arr = pa.concat_arrays([lines]) if lines.offset else lines
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32, count=len(arr) + 1).astype(np.int64)
    buf = arr.buffers()[2]
    data = np.frombuffer(buf, dtype=np.uint8) if buf is not None else np.empty(0, np.uint8)
    return data, offsets


@nb.njit(cache=True, nogil=True)
def _newlines(data: np.ndarray, offsets: np.ndarray, out: np.ndarray) -> None:
    w = 0
    for i in range(offsets.shape[0] - 1):
        s = offsets[i]
        n = offsets[i + 1] - s
        out[w : w + n] = data[s : s + n]
        w += n
        out[w] = 10
        w += 1


def ndjson(lines: pa.StringArray | Lines) -> bytes:
    """One newline-terminated JSON text per message, as one buffer."""
    if isinstance(lines, Lines):
        lines = lines.text
    if len(lines) == 0:
        return b""
    data, offsets = _buffers(lines)
    out = np.empty(int(offsets[-1] - offsets[0]) + len(lines), dtype=np.uint8)
    _newlines(data, offsets, out)
    return out.tobytes()


@nb.njit(cache=True, nogil=True)
def _frame(data: np.ndarray, offsets: np.ndarray, out: np.ndarray) -> int:
    w = 0
    for i in range(offsets.shape[0] - 1):
        start = offsets[i]
        n = offsets[i + 1] - start
        out[w] = 0x81  # FIN + text frame; a server never masks
        if n < 126:
            out[w + 1] = n
            w += 2
        elif n < 65536:
            out[w + 1] = 126
            out[w + 2] = (n >> 8) & 0xFF
            out[w + 3] = n & 0xFF
            w += 4
        else:
            out[w + 1] = 127
            for b in range(8):
                out[w + 2 + b] = (n >> (8 * (7 - b))) & 0xFF
            w += 10
        out[w : w + n] = data[start : start + n]
        w += n
    return w


def websocket_frames(lines: pa.StringArray | Lines) -> bytes:
    """Each message as its own unmasked WebSocket text frame, all in one buffer."""
    if isinstance(lines, Lines):
        lines = lines.text
    if len(lines) == 0:
        return b""
    data, offsets = _buffers(lines)
    out = np.empty(int(offsets[-1] - offsets[0]) + 10 * len(lines), dtype=np.uint8)
    n = _frame(data, offsets, out)
    return out[:n].tobytes()
