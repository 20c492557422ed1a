"""Databento DBN market-by-order files (``.dbn``, ``.dbn.zst``) -> ``MboRecords``.

The ``databento-dbn`` package decodes the metadata header (any DBN version, symbol mappings);
the records themselves are fixed-size C structs, so they are viewed with one numpy structured
dtype over the decompressed bytes instead of being decoded into a Python object each
(``benchmarks/bench_mbo.py`` measures both paths). A file mixing record types (a live capture with
system or symbol-mapping records) is walked by record length first and only its MBO records kept.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numba as nb
import numpy as np
import pyarrow as pa

from replayterm.core.data.mbo.records import MboRecords, side_code
from replayterm.core.errors import DataError

DBN_MAGIC = b"DBN"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
MBO_RTYPE = 0xA0
PRICE_SCALE = 1e9  # Databento prices are int64 units of 1e-9

# The MBO record (``MboMsg``), identical in DBN versions 1 to 3: 56 bytes.
MBO_DTYPE = np.dtype(
    [
        ("length", "u1"),  # record length in 4-byte words (14)
        ("rtype", "u1"),
        ("publisher_id", "<u2"),
        ("instrument_id", "<u4"),
        ("ts_event", "<u8"),
        ("order_id", "<u8"),
        ("price", "<i8"),
        ("size", "<u4"),
        ("flags", "u1"),
        ("channel_id", "u1"),
        ("action", "u1"),
        ("side", "u1"),
        ("ts_recv", "<u8"),
        ("ts_in_delta", "<i4"),
        ("sequence", "<u4"),
    ]
)
assert MBO_DTYPE.itemsize == 56


def is_dbn(path: Path, magic: bytes) -> bool:
    name = path.name.lower()
    return magic.startswith(DBN_MAGIC) or (magic.startswith(ZSTD_MAGIC) and ".dbn" in name)


def decompressed(path: Path) -> pa.Buffer:
    """The file's DBN bytes (zstd frames decompressed through pyarrow's codec; a plain file is
    memory-mapped)."""
    with path.open("rb") as f:
        magic = f.read(4)
    try:
        if magic == ZSTD_MAGIC:
            with pa.CompressedInputStream(pa.OSFile(str(path)), "zstd") as stream:
                return stream.read_buffer()
        return pa.memory_map(str(path)).read_buffer()
    except (OSError, pa.ArrowException) as exc:
        raise DataError(
            path,
            f"the zstd stream cannot be decompressed ({str(exc).splitlines()[0]})",
            hint="The download may be truncated; fetch the file again",
        ) from None


@nb.njit(cache=True)
def _mbo_offsets(body: np.ndarray) -> tuple[np.ndarray, int]:
    """Byte offsets of MBO records in a stream of records; returns (offsets, end of the last
    whole record)."""
    n = body.shape[0]
    out = np.empty(n // 56 + 1, dtype=np.int64)
    k = 0
    pos = 0
    while pos + 2 <= n:
        length = int(body[pos]) * 4
        if length < 4 or pos + length > n:
            break
        if body[pos + 1] == MBO_RTYPE and length >= 56:
            out[k] = pos
            k += 1
        pos += length
    return out[:k], pos


def read_dbn(path: Path) -> MboRecords:
    import databento_dbn  # decodes the metadata header of every DBN version

    raw = decompressed(path)
    head = raw[:8].to_pybytes()
    if len(raw) < 8 or not head.startswith(DBN_MAGIC):
        raise DataError(
            path, "not a Databento DBN file (no 'DBN' header)", hint="Give a .dbn or .dbn.zst file"
        )
    version = head[3]
    (meta_len,) = struct.unpack_from("<I", head, 4)
    if 8 + meta_len > len(raw):
        raise DataError(path, "the DBN metadata header is truncated", hint="Fetch the file again")
    try:
        meta = databento_dbn.Metadata.decode(raw[: 8 + meta_len].to_pybytes())
    except Exception as exc:  # the package raises its own error types for every malformed header
        raise DataError(
            path, f"the DBN metadata cannot be decoded ({exc})", hint="Fetch the file again"
        ) from None
    schema = str(getattr(meta.schema, "value", meta.schema) or "").lower()
    if schema and schema != "mbo":
        raise DataError(
            path,
            f"this DBN file holds '{schema}' records; market-by-order replay needs the 'mbo' schema",
            hint="Request the MBO schema from Databento (mbp/tbbo/ohlcv files are not order-by-order)",
        )
    body = np.frombuffer(raw, dtype=np.uint8, offset=8 + meta_len)
    notes: list[str] = []
    whole = body.shape[0] // 56 * 56
    fast = (
        body.shape[0] % 56 == 0
        and bool(np.all(body[0:whole:56] == 14))
        and bool(np.all(body[1:whole:56] == MBO_RTYPE))
    )
    if fast:
        recs = body.view(MBO_DTYPE)
    else:
        offsets, end = _mbo_offsets(body)
        if end < body.shape[0]:
            notes.append(
                f"{path.name}: {body.shape[0] - end} bytes at the end are not a whole record (truncated file)"
            )
        skipped = "other record types were skipped" if offsets.shape[0] else "no MBO record"
        notes.append(f"{path.name}: {skipped} (DBN v{version})")
        idx = offsets[:, None] + np.arange(56)[None, :]
        recs = body[idx.ravel()].view(MBO_DTYPE) if offsets.shape[0] else np.zeros(0, MBO_DTYPE)
    instrument_ids = recs["instrument_id"]
    inverse: np.ndarray
    if instrument_ids.shape[0] == 0 or bool(np.all(instrument_ids == instrument_ids[0])):
        ids, inverse = instrument_ids[:1], np.zeros(instrument_ids.shape[0], np.int32)
    else:
        ids, inverse = np.unique(instrument_ids, return_inverse=True)
    names = _symbols_by_id(meta)
    return MboRecords(
        ts_recv=recs["ts_recv"].astype(np.int64),
        ts_event=recs["ts_event"].astype(np.int64),
        action=np.ascontiguousarray(recs["action"]),
        side=side_code(recs["side"]),
        price=np.ascontiguousarray(recs["price"]),
        size=recs["size"].astype(np.int64),
        order_id=np.ascontiguousarray(recs["order_id"]).view(np.int64),
        flags=np.ascontiguousarray(recs["flags"]),
        instrument=inverse.astype(np.int32),
        price_scale=PRICE_SCALE,
        exchange=str(meta.dataset or "databento"),
        symbols=[names.get(int(i), str(int(i))) for i in ids],
        file_format=f"dbn v{version}" + (" zstd" if path.name.lower().endswith(".zst") else ""),
        notes=notes,
    )


def _symbols_by_id(meta: object) -> dict[int, str]:
    """instrument_id -> raw symbol from the metadata's symbol mappings (when it has them)."""
    out: dict[int, str] = {}
    mappings = getattr(meta, "mappings", None) or {}
    for raw_symbol, intervals in dict(mappings).items():
        for interval in intervals:
            value = (
                interval.get("symbol") if isinstance(interval, dict) else getattr(interval, "symbol", None)
            )
            if value is not None and str(value).isdigit():
                out[int(value)] = str(raw_symbol)
    return out
