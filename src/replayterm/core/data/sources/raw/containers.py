"""The three raw recording layouts, each read as a stream of ``(receive time µs, message, where)``:

- hftbacktest collector: gzip text, one ``<receive time, ns since epoch> <message JSON>`` per line;
- tardis-dev / tardis-machine cache: ``feeds/<exchange>/<filter hash>/YYYY/MM/DD/HH/mm.json.gz``,
  one gzip file per minute, lines ``<ISO-8601 receive time> <message JSON>``;
- cryptofeed v3 raw recordings: zstd JSONL records (``header``, ``connect``, ``send``, ``http``,
  ``recv``) with the exchange's payload as a string in ``data`` and its receive time ``ts`` in
  float seconds; ``conn`` names the connection, whose ``connect`` record gives the address.

A line that cannot be read (cut short, not JSON) is counted and reported with its file and line;
the messages it held are missing, which the sequence checks then see as a gap.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from replayterm.core.errors import DataError

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_ISO = re.compile(rb"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?Z?$")
_MINUTE = re.compile(r"^\d\d\.json\.gz$")


@dataclass
class Damage:
    """Lines that could not be read."""

    count: int = 0
    first: list[str] = field(default_factory=list)

    def add(self, path: Path, line: int, why: str) -> None:
        self.count += 1
        if len(self.first) < 5:
            self.first.append(f"{path}, line {line}: {why}")


@dataclass(frozen=True)
class Message:
    local: int  # receive time, µs since the epoch
    body: dict[str, Any]
    exchange: str | None = None  # when the container knows it (tardis folder, cryptofeed)


def detect(path: Path) -> str | None:
    """``"collector"``, ``"tardis-cache"``, ``"tardis-slice"``, ``"cryptofeed"`` or None."""
    if path.is_dir():
        return "tardis-cache" if _tardis_root(path) is not None else None
    try:
        with path.open("rb") as f:
            magic = f.read(4)
    except OSError:
        return None
    if magic.startswith(ZSTD_MAGIC):
        head = _zstd_head(path)
        return "cryptofeed" if head.startswith(b'{"t":"header"') or b'"t":"' in head[:40] else None
    if magic.startswith(GZIP_MAGIC):
        try:
            with gzip.open(path, "rb") as g:
                first = g.readline(4096)
        except (OSError, EOFError, zlib.error):
            return None  # a damaged gzip: the CSV reader says what is wrong with it
        token = first.split(b" ", 1)[0]
        if token.isdigit() and len(token) >= 16 and first[len(token) + 1 : len(token) + 2] == b"{":
            return "collector"
        if _ISO.match(token) and first[len(token) + 1 : len(token) + 2] == b"{":
            return "tardis-slice"
    return None


def _zstd_head(path: Path) -> bytes:
    try:
        with pa.CompressedInputStream(pa.OSFile(str(path)), "zstd") as f:
            return bytes(f.read(256))
    except (OSError, pa.ArrowException):
        return b""


def _iso_us(token: bytes) -> int:
    m = _ISO.match(token)
    if m is None:
        raise ValueError(f"not an ISO-8601 time: {token[:40]!r}")
    y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
    frac = (m.group(7) or b"0")[:6].ljust(6, b"0")
    base = datetime(y, mo, d, h, mi, s, tzinfo=UTC)
    return int(base.timestamp()) * 1_000_000 + int(frac)


def _lines(path: Path, stamp: str, damage: Damage, exchange: str | None = None) -> Iterator[Message]:
    """Messages of one gzip text file: ``<time> <JSON>`` per line (ns integers or ISO text)."""
    try:
        raw = gzip.open(path, "rb")  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise DataError(path, f"cannot be read ({exc})", hint="Check the file") from None
    n = 0
    with raw:
        try:
            for n, line in enumerate(raw, 1):
                head, sep, body = line.partition(b" ")
                if not sep:
                    if line.strip():
                        damage.add(path, n, "no message after the receive time")
                    continue
                try:
                    local = int(head) // 1000 if stamp == "ns" else _iso_us(head)
                    msg = json.loads(body)
                except ValueError as exc:
                    damage.add(path, n, f"cannot be parsed ({str(exc)[:80]})")
                    continue
                if isinstance(msg, dict):
                    yield Message(local, msg, exchange)
                else:
                    damage.add(path, n, "the message is not a JSON object")
        except (EOFError, OSError, zlib.error) as exc:
            damage.add(path, n + 1, f"the file ends early or is damaged ({exc})")


def collector(paths: list[Path], damage: Damage) -> Iterator[Message]:
    for path in paths:
        yield from _lines(path, "ns", damage)


# -- tardis-dev cache -----------------------------------------------------------------------


def _tardis_root(path: Path) -> Path | None:
    """The ``feeds`` folder of a tardis-dev cache: ``path`` itself, its child, or an ancestor
    (``path`` may be an exchange, filter-hash, year, month, day or hour folder inside it)."""
    if (path / "feeds").is_dir():
        return path / "feeds"
    for folder in (path, *path.parents):
        if folder.name == "feeds" and folder.is_dir():
            return folder
    return None


@dataclass(frozen=True)
class SliceSet:
    """One (exchange, filter hash) of a tardis-dev cache: its minute files in time order."""

    exchange: str
    filter_hash: str
    files: tuple[Path, ...]

    @property
    def days(self) -> list[str]:
        return sorted({"-".join(f.parts[-5:-2]) for f in self.files})

    def streams(self, lines: int = 400) -> list[str]:
        """The streams (``symbol@channel``, or topics) seen in the first minute file: what the
        filter hash stands for."""
        found: set[str] = set()
        try:
            with gzip.open(self.files[0], "rb") as f:
                for _ in range(lines):
                    line = f.readline()
                    if not line:
                        break
                    m = re.search(rb'"(?:stream|topic)"\s*:\s*"([^"]+)"', line[:300])
                    if m:
                        found.add(m.group(1).decode("utf-8", "replace"))
        except (OSError, EOFError, zlib.error):
            pass
        return sorted(found)


def tardis_slices(path: Path) -> list[SliceSet]:
    """Every (exchange, filter hash) under ``path`` inside a tardis-dev cache, with the minute
    files under ``path`` in time order (the cache root, ``feeds``, an exchange, a filter hash or
    any of its year/month/day/hour folders)."""
    root = _tardis_root(path)
    if root is None:
        return []
    base = root if path == root or path == root.parent else path
    rel = base.relative_to(root).parts
    sets: dict[tuple[str, str], list[Path]] = {}
    for f in base.rglob("*.json.gz"):
        parts = f.relative_to(root).parts
        if len(parts) != 7 or not _MINUTE.match(f.name) or parts[: len(rel)] != rel:
            continue
        sets.setdefault((parts[0], parts[1]), []).append(f)
    return [SliceSet(ex, h, tuple(sorted(files))) for (ex, h), files in sorted(sets.items())]


def slice_time(file: Path) -> int:
    """Start of a minute file's minute (µs) from its path ``YYYY/MM/DD/HH/mm.json.gz``."""
    y, mo, d, h = (int(x) for x in file.parts[-5:-1])
    mi = int(file.name[:2])
    return int(datetime(y, mo, d, h, mi, tzinfo=UTC).timestamp()) * 1_000_000


def tardis(
    sets: list[SliceSet], damage: Damage, lo: int | None = None, hi: int | None = None
) -> Iterator[Message]:
    for s in sets:
        for f in s.files:
            t = slice_time(f)
            if (lo is not None and t + 60_000_000 <= lo) or (hi is not None and t >= hi):
                continue
            yield from _lines(f, "iso", damage, s.exchange)


# -- cryptofeed -----------------------------------------------------------------------------

_CRYPTOFEED_EXCHANGES = {
    "BINANCE": "binance",
    "BINANCE_FUTURES": "binance-futures",
    "BINANCE_DELIVERY": "binance-delivery",
    "BINANCE_US": "binance-us",
    "BYBIT": "bybit",
    "OKX": "okex",
    "COINBASE": "coinbase",
}


def cryptofeed(path: Path, damage: Damage) -> Iterator[Message]:
    """Messages of one cryptofeed recording; REST depth responses become bare snapshot messages
    tagged with their symbol (``_symbol``) and the exchange comes from the header and the address
    of each connection."""
    from replayterm.core.data.sources.raw.bybit import exchange_of_address

    try:
        stream = pa.CompressedInputStream(pa.OSFile(str(path)), "zstd")
    except (OSError, pa.ArrowException) as exc:
        raise DataError(path, f"cannot be read as zstd ({exc})", hint="Check the file") from None
    exchange: str | None = None
    conns: dict[str, str] = {}
    n = 0
    with stream:
        text = io.TextIOWrapper(io.BufferedReader(stream), encoding="utf-8", errors="replace")
        try:
            for n, line in enumerate(text, 1):
                try:
                    rec = json.loads(line)
                except ValueError as exc:
                    damage.add(path, n, f"cannot be parsed ({str(exc)[:80]})")
                    continue
                kind = rec.get("t")
                if kind == "header":
                    exchange = _CRYPTOFEED_EXCHANGES.get(
                        str(rec.get("exchange")), str(rec.get("exchange")).lower()
                    )
                    continue
                if kind == "connect":
                    conns[rec.get("conn", "")] = str(rec.get("addr", ""))
                    continue
                if kind not in ("recv", "http"):
                    continue
                local = round(float(rec["ts"]) * 1e6)
                try:
                    body = json.loads(rec["data"]) if isinstance(rec.get("data"), str) else rec.get("data")
                except ValueError as exc:
                    damage.add(path, n, f"payload cannot be parsed ({str(exc)[:80]})")
                    continue
                if not isinstance(body, dict):
                    continue
                ex = exchange
                addr = conns.get(rec.get("conn", ""), "")
                if ex == "bybit":
                    ex = exchange_of_address(addr) or ex
                if kind == "http":
                    url = str(rec.get("url", ""))
                    if "depth" not in url or "lastUpdateId" not in body:
                        continue
                    m = re.search(r"symbol=([A-Za-z0-9_]+)", url)
                    if m is None:
                        continue
                    body = {"stream": f"{m.group(1).lower()}@depthSnapshot", "generated": True, "data": body}
                yield Message(local, body, ex)
        except (OSError, pa.ArrowException) as exc:
            damage.add(path, n + 1, f"the file ends early ({exc})")
