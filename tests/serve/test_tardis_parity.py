"""tardis-dev is the oracle: ``replayterm serve`` on the shared CSVs against npm tardis-dev's own
``replayNormalized`` + ``compute`` over a tardis-dev cache built from the raw capture those CSVs
were made from (``tests/serve/tardis_oracle/oracle.mjs``), line by line, for every data type
tardis-machine serves.

Lines must be byte-identical. Where the CSVs do not hold the same data as the raw capture, the
test names the difference and checks what can be checked:

- ``first snapshot``: tardis-dev sends the REST snapshot with the updates buffered before it
  appended in arrival order (zero amounts included); the CSV holds that book merged and sorted.
  Same book (non-zero levels), same times.
- ``same microsecond``: the CSVs keep receive times in µs, the capture in ns; messages received
  within one microsecond may come in another order (compared as a set within the µs).

Offline and deterministic: the cache is generated in a temporary folder, tardis-dev never goes
to the network (every slice is cached). Skips when ``../shared/data`` or node is absent.
"""

from __future__ import annotations

import collections
import gzip
import json
import shutil
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from server_process import ServerProcess, start_server, stop_server

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data" / "binance-futures"
ORACLE = Path(__file__).resolve().parent / "tardis_oracle"
EXCHANGE = "binance-futures"
FROM, TO = "2024-07-18T23:57:00.000Z", "2024-07-19T00:06:00.000Z"
WINDOW = {"exchange": EXCHANGE, "symbols": ["btcusdt"], "from": FROM, "to": TO}

SNAPSHOT_TYPES = [
    "book_snapshot_5_100ms", "book_snapshot_25_1s", "book_snapshot_10_0ms",
    "book_snapshot_3_grouped10_100ms", "quote", "quote_1s",
]  # fmt: skip
FLOORED = {
    **WINDOW,
    "from": "2024-07-18T23:58:30.000Z",
    "to": "2024-07-19T00:02:30.000Z",
    "dataTypes": ["trade"],
}
BAR_TYPES = ["trade_bar_1s", "trade_bar_1m", "trade_bar_100ticks", "trade_bar_1vol"]
MIDNIGHT_TYPES = ["book_snapshot_5_1s", "trade_bar_100ticks", "disconnect"]
REQUESTS: dict[str, Any] = {
    "trade": {**WINDOW, "dataTypes": ["trade"]},
    "book_change": {**WINDOW, "dataTypes": ["book_change", "disconnect"], "withDisconnectMessages": True},
    "snapshots": {**WINDOW, "dataTypes": SNAPSHOT_TYPES},
    "trade_bars": {**WINDOW, "dataTypes": BAR_TYPES},
    "book_ticker": {**WINDOW, "dataTypes": ["book_ticker"]},
    "derivative_ticker": {**WINDOW, "dataTypes": ["derivative_ticker"]},
    # tardis-dev floors from/to to the minute: 23:58:30 -> 23:58, 00:02:30 -> 00:02
    "floored_window": FLOORED,
    # several options objects, merged by receive time (tardis-dev's combine)
    "combined": [
        {**WINDOW, "dataTypes": ["trade", "trade_bar_10s"]},
        {**WINDOW, "dataTypes": ["book_snapshot_2_1s", "book_change"], "withDisconnectMessages": True},
    ],
    # a day-file boundary is not a disconnect: computations carry on through midnight
    "midnight": {**WINDOW, "dataTypes": MIDNIGHT_TYPES, "withDisconnectMessages": True},
}

# Binance USD-M markPrice@1s messages (the capture has none), one a second.
FUNDING_MS = 1721376000000  # 2024-07-19T08:00:00Z


def mark_price_messages() -> list[tuple[int, dict[str, Any]]]:
    out = []
    start_ms = 1721347022000  # 23:57:02 exchange time
    for i in range(530):
        e = start_ms + 1000 * i
        data = {
            "e": "markPriceUpdate", "E": e, "s": "BTCUSDT",
            "p": f"{63900 + (i * 37 % 101) / 10:.8f}", "P": f"{63910 + (i % 13) / 10:.8f}",
            "i": f"{63905 + (i * 7 % 29) / 10:.8f}", "r": "0.00010000" if i < 300 else "0.00012000",
            "T": FUNDING_MS,
        }  # fmt: skip
        receive_ns = (e - 1500) * 1_000_000 + 250_700  # the receiver's clock ran ~1.5 s behind
        out.append((receive_ns, {"stream": "btcusdt@markPrice@1s", "data": data}))
    return out


def write_derivative_csv(path: Path, messages: list[tuple[int, dict[str, Any]]]) -> None:
    """The Tardis ``derivative_ticker`` CSV these messages make (state carried forward)."""
    header = ("exchange,symbol,timestamp,local_timestamp,funding_timestamp,funding_rate,"
              "predicted_funding_rate,open_interest,last_price,index_price,mark_price")  # fmt: skip
    rows = [header]
    for ns, m in messages:
        d = m["data"]
        rows.append(f"{EXCHANGE},BTCUSDT,{d['E'] * 1000},{ns // 1000},{d['T'] * 1000},{float(d['r'])},,,,"
                    f"{float(d['i'])},{float(d['p'])}")  # fmt: skip
    with gzip.open(path, "wt") as f:
        f.write("\n".join(rows) + "\n")


def ensure_oracle() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node/npm are not installed: the tardis-dev oracle cannot run")
    if not (ORACLE / "node_modules" / "tardis-dev").is_dir():
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=ORACLE, capture_output=True, text=True, timeout=300
        )
        if done.returncode != 0:
            pytest.skip(f"npm ci in {ORACLE} failed (offline?): {done.stderr[-500:]}")


@pytest.fixture(scope="module")
def parity(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, ServerProcess]]:
    if not (DATA / "raw").is_dir():
        pytest.skip("../shared/data/binance-futures is absent")
    ensure_oracle()
    tmp = tmp_path_factory.mktemp("parity")
    marks = mark_price_messages()
    job = {
        "cacheDir": str(tmp / "tardis-cache"),
        "exchange": EXCHANGE,
        "raw": [str(DATA / "raw" / "btcusdt_20240718.gz"), str(DATA / "raw" / "btcusdt_20240719.gz")],
        "extra": [[str(ns), m] for ns, m in marks],
        "requests": [{"id": k, "options": v} for k, v in REQUESTS.items()],
        "outDir": str(tmp / "oracle"),
    }
    (tmp / "job.json").write_text(json.dumps(job))
    done = subprocess.run(["node", str(ORACLE / "oracle.mjs"), str(tmp / "job.json")],
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    deriv = tmp / f"{EXCHANGE}_derivative_ticker_2024-07-18_BTCUSDT.csv.gz"
    write_derivative_csv(deriv, marks)
    csvs = sorted(str(p) for p in DATA.glob(f"{EXCHANGE}_*_BTCUSDT.csv.gz") if "update_ids" not in p.name)
    files = [*csvs, str(deriv)]
    server = start_server(files, tmp / "rt-cache")
    yield tmp / "oracle", server
    stop_server(server)


def fetch(server: ServerProcess, options: Any) -> list[str]:
    query = urllib.parse.urlencode({"options": json.dumps(options)})
    with urllib.request.urlopen(f"{server.http}/replay-normalized?{query}", timeout=120) as r:
        return r.read().decode().splitlines()


def kind(line: str) -> str:
    m = json.loads(line)
    return m["type"] if "name" not in m else m["name"]


def book(m: dict[str, Any]) -> dict[str, dict[float, float]]:
    out: dict[str, dict[float, float]] = {}
    for side in ("bids", "asks"):
        levels: dict[float, float] = {}
        for lv in m[side]:
            if lv["amount"]:
                levels[lv["price"]] = lv["amount"]
            else:
                levels.pop(lv["price"], None)
        out[side] = levels
    return out


def compare(theirs: list[str], ours: list[str]) -> dict[str, Any]:
    """Line by line; returns per-kind counts and identical lines, and the named differences."""
    assert len(ours) == len(theirs), (len(ours), len(theirs))
    stats: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    named: collections.Counter[str] = collections.Counter()
    first_snapshot_seen = False
    i = 0
    while i < len(theirs):
        t, o = theirs[i], ours[i]
        stats[kind(t)][0] += 1
        if t == o:
            stats[kind(t)][1] += 1
            first_snapshot_seen |= '"isSnapshot":true' in t
            i += 1
            continue
        tm, om = json.loads(t), json.loads(o)
        if tm["type"] == om["type"] == "book_change" and tm["isSnapshot"] and not first_snapshot_seen:
            assert om["isSnapshot"], o[:200]
            assert book(om) == book(tm)
            assert (om["timestamp"], om["localTimestamp"]) == (tm["timestamp"], tm["localTimestamp"])
            named["first snapshot"] += 1
            first_snapshot_seen = True
            i += 1
            continue
        # messages received within one microsecond: the same set, maybe in another order
        at = tm["localTimestamp"]
        j = i
        while j < len(theirs) and json.loads(theirs[j])["localTimestamp"] == at:
            j += 1
        assert sorted(theirs[i:j]) == sorted(ours[i:j]), (
            f"line {i} differs:\n tardis {t[:400]}\n ours   {o[:400]}"
        )
        for line in theirs[i + 1 : j]:
            stats[kind(line)][0] += 1
        named["same microsecond"] += j - i
        i = j
    return {"types": {k: tuple(v) for k, v in stats.items()}, "named": dict(named)}


EXPECTED_COUNTS = {
    "trade": {"trade": 10_701},
    "book_change": {"book_change": 9_017},
}


@pytest.mark.parametrize("name", list(REQUESTS))
def test_serve_matches_tardis_dev(parity: tuple[Path, ServerProcess], name: str) -> None:
    oracle_dir, server = parity
    theirs = (oracle_dir / f"{name}.ndjson").read_text().splitlines()
    ours = fetch(server, REQUESTS[name])
    result = compare(theirs, ours)
    print(name, json.dumps(result))
    assert theirs, "the oracle produced nothing"
    for kind_name, count in EXPECTED_COUNTS.get(name, {}).items():
        assert result["types"][kind_name][0] == count
    options = REQUESTS[name] if isinstance(REQUESTS[name], list) else [REQUESTS[name]]
    for option in options:
        for data_type in option["dataTypes"]:
            if data_type != "disconnect":  # the capture has no gap: no disconnect, also at midnight
                assert data_type in result["types"], f"{data_type} missing from {sorted(result['types'])}"
    assert "disconnect" not in result["types"]


def test_exact_range_is_an_opt_in_extension(parity: tuple[Path, ServerProcess]) -> None:
    _, server = parity
    floored = fetch(server, FLOORED)
    exact = fetch(server, {**FLOORED, "exactRange": True})
    times = [json.loads(line)["localTimestamp"] for line in exact]
    assert min(times) >= "2024-07-18T23:58:30"
    assert max(times) < "2024-07-19T00:02:30"
    floored_times = [json.loads(line)["localTimestamp"] for line in floored]
    assert min(floored_times) < "2024-07-18T23:58:30"
    assert max(floored_times) < "2024-07-19T00:02"
    assert max(times) >= "2024-07-19T00:02"
