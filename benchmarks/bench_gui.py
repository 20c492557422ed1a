"""The desktop app at Max speed for 20 s on a generated 10M-row file, all views visible (offscreen).

Figures: GUI-thread stall (how late a 5 ms timer fires; p50/p99), frames rendered per second, and
the worker's throughput in timeline events/s against the headless batch rate on the same data.
When the replay reaches the end it seeks back to the start and goes on.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from benchmarks._util import generated_l2_file, result

RUN_S = float(os.environ.get("REPLAYTERM_BENCH_GUI_SECONDS", "20"))
PROFILE_TO = os.environ.get("REPLAYTERM_BENCH_GUI_PROFILE", "")  # cProfile of the GUI thread, if set
PROBE_MS = 5


def _headless_rate(paths: list[str]) -> float:
    from replayterm.core.data import open_sources
    from replayterm.core.replay.cursor import ReplayCursor
    from replayterm.core.replay.instruments import build_instruments

    cursor = ReplayCursor(build_instruments(open_sources(paths)))
    rates = []
    for _ in range(3):
        cursor.seek(cursor.start_ts)
        start = time.perf_counter()
        cursor.advance_to(cursor.end_ts)
        rates.append(cursor.n_events / (time.perf_counter() - start))
    return float(np.median(rates))


def run() -> Iterator[dict[str, Any]]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QElapsedTimer, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from replayterm.core.replay.frame import Frame
    from replayterm.qt.app import create_application
    from replayterm.qt.controller import ReplayController
    from replayterm.qt.main_window import MainWindow

    book = generated_l2_file(10_000_000)
    paths = [str(book), *map(str, sorted(book.parent.glob("*trades*.csv.gz")))]
    headless = _headless_rate(paths)

    app = create_application([])
    settings = QSettings(
        os.path.join(os.path.dirname(str(book)), "bench-gui.ini"), QSettings.Format.IniFormat
    )
    window = MainWindow(settings=settings)
    window.resize(1680, 1000)
    window.show()
    controller = ReplayController(window)
    opened: list[bool] = []
    controller.worker.opened.connect(lambda _info: opened.append(True))
    window.request_open(paths)
    deadline = time.monotonic() + 300
    while not opened and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.005)

    applied: list[tuple[float, int]] = []
    laps = [0]

    def on_frame(frame: Frame) -> None:
        applied.append((time.perf_counter(), frame.events_applied + laps[0]))
        if frame.at_end:
            laps[0] += frame.events_applied
            window.seek_requested.emit(frame.start_ts)
            window.play.emit()

    controller.worker.frame_ready.connect(on_frame)
    window.speed_changed.emit(float("inf"))
    window.play.emit()

    stalls: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed()]

    def probe() -> None:
        now = clock.nsecsElapsed()
        stalls.append(max(0.0, (now - last[0]) / 1e6 - PROBE_MS))
        last[0] = now

    timer = QTimer()
    timer.setInterval(PROBE_MS)
    timer.timeout.connect(probe)
    render_ms: list[float] = []
    window.sink.rendered.connect(render_ms.append)
    rendered_before = window.sink.frames_rendered
    timer.start()
    start = time.perf_counter()
    QTimer.singleShot(int(RUN_S * 1000), app.quit)
    if PROFILE_TO:
        import cProfile

        cProfile.runctx("app.exec()", globals(), {"app": app}, PROFILE_TO)
    else:
        app.exec()
    elapsed = time.perf_counter() - start
    timer.stop()
    frames = window.sink.frames_rendered - rendered_before
    window.pause.emit()
    controller.shutdown()
    window.close()
    QApplication.processEvents()

    window_events = [n for t, n in applied if start <= t]
    worker_rate = (window_events[-1] - window_events[0]) / elapsed if len(window_events) > 1 else 0.0
    yield result(
        "gui_stall_p99",
        float(np.percentile(stalls, 99)),
        "ms",
        p50=round(float(np.percentile(stalls, 50)), 2),
        target="<= 50",
    )
    yield result(
        "gui_frames_per_s",
        frames / elapsed,
        "frames/s",
        render_ms_p50=round(float(np.median(render_ms)), 2) if render_ms else None,
        gui_ms_per_frame=round(window.sink.frame_cost_ms, 2),
        target=">= 30",
    )
    yield result(
        "gui_worker_events_per_s",
        worker_rate,
        "events/s",
        headless_batch=round(headless),
        ratio=round(worker_rate / headless, 3),
        target="ratio >= 0.5",
    )
