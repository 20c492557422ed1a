"""Run the benchmarks and print one JSON line per figure: ``python -m benchmarks [NAME…]``."""

from __future__ import annotations

import importlib
import json
import sys
import traceback
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    names = argv or sorted(p.stem.removeprefix("bench_") for p in here.glob("bench_*.py"))
    failed = 0
    for name in names:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        try:
            for row in module.run():
                print(json.dumps(row), flush=True)
        except Exception:  # one broken benchmark must not hide the others' figures
            failed += 1
            print(json.dumps({"bench": name, "error": traceback.format_exc(limit=3)}), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
