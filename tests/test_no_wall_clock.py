"""Tests assert behaviour, never how long something took: two busy cores make any wall-clock or
CPU-time bound flaky. Speed is measured in benchmarks/ instead. This test keeps it that way."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
CLOCKS = re.compile(r"\btime\.(perf_counter|monotonic|thread_time|process_time)(_ns)?\b")


def test_no_test_reads_a_clock_to_measure_a_duration() -> None:
    offenders = [
        f"{path.relative_to(TESTS)}:{n}: {line.strip()}"
        for path in sorted(TESTS.rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if CLOCKS.search(line)
    ]
    assert offenders == [], "durations belong in benchmarks/:\n" + "\n".join(offenders)
