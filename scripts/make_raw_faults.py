"""Write raw recordings with an injected sequence fault, for screenshots and manual checks.

    .venv/bin/python scripts/make_raw_faults.py OUT_DIR

From the shared captures (../shared/data): OUT_DIR/collector/btcusdt_20240718.gz (the collector
capture with one depth message dropped and a REST snapshot re-syncing the book 40 s later),
OUT_DIR/tardis-cache/feeds/... (a tardis-dev cache built from that capture) and
OUT_DIR/cryptofeed/BINANCE_FUTURES.jsonl.zst (the cryptofeed recording with one SUSHIUSDT depth
message dropped).
"""

from __future__ import annotations

import gzip
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def _collector(out: Path) -> Path:
    from replayterm.core.data.sources.raw import open_raw
    from replayterm.core.replay.instruments import build_instruments

    src = SHARED / "binance-futures/raw/btcusdt_20240718.gz"
    lines = gzip.decompress(src.read_bytes()).splitlines()
    snap = next(i for i, line in enumerate(lines) if b'"lastUpdateId"' in line[:60])
    depth = [i for i, line in enumerate(lines) if b"@depth@" in line[:80] and i > snap]
    drop, resync = depth[300], depth[1100]
    # The clean book just after the re-sync point, as a REST snapshot.
    head = out / "head.gz"
    head.write_bytes(gzip.compress(b"\n".join(lines[: resync + 1]) + b"\n", 1))
    (inst,) = build_instruments([s for s in open_raw([head]).sources if s.is_book])
    head.unlink()
    assert inst.book is not None
    inst.book.run_to_end()
    last = json.loads(lines[resync].partition(b" ")[2])["data"]
    snapshot = {
        "lastUpdateId": last["u"],
        "E": last["E"],
        "T": last["T"],
        "bids": [[repr(float(p)), repr(float(a))] for p, a in inst.book.book.levels(1, 10**6)],
        "asks": [[repr(float(p)), repr(float(a))] for p, a in inst.book.book.levels(-1, 10**6)],
    }
    ns = int(lines[resync].partition(b" ")[0]) + 1
    faulty = lines[:drop] + lines[drop + 1 : resync + 1]
    faulty += [str(ns).encode() + b" " + json.dumps(snapshot).encode(), *lines[resync + 1 :]]
    path = out / "collector" / src.name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(b"\n".join(faulty) + b"\n", 1))
    return path


def _tardis_cache(out: Path, capture: Path) -> Path:
    minutes: dict[str, list[bytes]] = {}
    for line in gzip.decompress(capture.read_bytes()).splitlines():
        ns, _, body = line.partition(b" ")
        msg = json.loads(body)
        if "lastUpdateId" in msg:
            msg = {"stream": "btcusdt@depthSnapshot", "generated": True, "data": msg}
        t = datetime.fromtimestamp(int(ns) / 1e9, tz=UTC)
        iso = t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ns) % 10**9 // 1000:06d}Z"
        minutes.setdefault(t.strftime("%Y/%m/%d/%H/%M"), []).append(
            iso.encode() + b" " + json.dumps(msg).encode()
        )
    root = out / "tardis-cache"
    for key, lines in minutes.items():
        f = root / "feeds" / "binance-futures" / "5f2a9c0e" / f"{key}.json.gz"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(gzip.compress(b"\n".join(lines) + b"\n", 1))
    return root


def _cryptofeed(out: Path) -> Path:
    src = SHARED / "cryptofeed/BINANCE_FUTURES.jsonl.zst"
    with pa.CompressedInputStream(pa.OSFile(str(src)), "zstd") as f:
        lines = bytes(f.read()).splitlines()
    depth = [i for i, line in enumerate(lines) if b"sushiusdt@depth" in line]
    del lines[depth[60]]
    path = out / "cryptofeed" / src.name
    path.parent.mkdir(parents=True, exist_ok=True)
    with pa.CompressedOutputStream(pa.OSFile(str(path), "wb"), "zstd") as g:
        g.write(b"\n".join(lines) + b"\n")
    return path


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/raw-faults")
    out.mkdir(parents=True, exist_ok=True)
    capture = _collector(out)
    print(capture)
    print(_tardis_cache(out, capture))
    print(_cryptofeed(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
