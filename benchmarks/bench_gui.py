"""The desktop app at Max speed on a generated 10M-row day, default layout at 1920x1080.

The built-in market maker runs (its PnL pane is visible). Figures, over ``RUN_S`` seconds:

- frame interval p50/p99: time between two rendered frames (target p99 <= 20 ms, i.e. >= 50 fps);
- GUI-thread CPU ms per rendered frame (everything the GUI thread did, divided by frames; p50 of
  one-second windows; target <= 8);
- key-to-screen latency p99: a Space press (pause) every second, until the first frame that
  shows the replay paused is rendered; playing resumes at once (target <= 50 ms);
- worker throughput against the headless rate of the same work (the session with the same
  strategy; the bare replay without one; target ratio >= 0.8);
- GC ms per frame: what the GUI-thread collector (qt/gc_policy.py) spent, per rendered frame.

When the replay reaches the end it seeks back to the start and goes on. ``REPLAYTERM_OPENGL=1``
measures the OpenGL viewport (pyqtgraph's QOpenGLWidget path); the default is the software
raster path. Runs under whatever QT_QPA_PLATFORM says (offscreen unless set; Xvfb: ``xcb``).
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
KEY_EVERY_MS = 1000
STRATEGY = os.environ.get("REPLAYTERM_BENCH_GUI_STRATEGY", "market_maker")  # "": none
HEADLESS_EVENTS = 1_000_000
SIZE = (1920, 1080)


def _headless_rate(paths: list[str]) -> float:
    """Events/s of the same work without the app: the bare replay, or with ``STRATEGY`` the
    session running it (over the first ``HEADLESS_EVENTS`` events)."""
    from replayterm.core.data import open_sources
    from replayterm.core.replay.cursor import ReplayCursor
    from replayterm.core.replay.instruments import build_instruments
    from replayterm.core.session import ReplaySession

    if STRATEGY:
        session = ReplaySession.open(paths)
        session.add_strategy(STRATEGY, None)
        stop = int(session.cursor.timeline.ts[min(HEADLESS_EVENTS, session.cursor.n_events) - 1])
        start = time.perf_counter()
        before = session.position
        session.advance_to(stop)
        return (session.position - before) / (time.perf_counter() - start)
    cursor = ReplayCursor(build_instruments(open_sources(paths)))
    rates = []
    for _ in range(3):
        cursor.seek(cursor.start_ts)
        start = time.perf_counter()
        cursor.advance_to(cursor.end_ts)
        rates.append(cursor.n_events / (time.perf_counter() - start))
    return float(np.median(rates))


def _wait(app: Any, done: Any, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not done() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.005)


def run() -> Iterator[dict[str, Any]]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from replayterm.core.frames import Frame
    from replayterm.qt.app import create_application
    from replayterm.qt.controller import ReplayController
    from replayterm.qt.gc_policy import GuiCollector
    from replayterm.qt.main_window import MainWindow

    book = generated_l2_file(10_000_000)
    paths = [str(book), *map(str, sorted(book.parent.glob("*trades*.csv.gz")))]
    headless = _headless_rate(paths)

    app = create_application([])
    collector = GuiCollector(app)
    settings = QSettings(
        os.path.join(os.path.dirname(str(book)), "bench-gui.ini"), QSettings.Format.IniFormat
    )
    settings.clear()  # the default layout, every run
    window = MainWindow(settings=settings)
    window.resize(*SIZE)
    window.show()
    controller = ReplayController(window)
    opened: list[bool] = []
    controller.worker.opened.connect(lambda _info: opened.append(True))
    window.request_open(paths)
    _wait(app, lambda: bool(opened), 300)
    if STRATEGY:
        loaded: list[bool] = []
        controller.worker.strategies_changed.connect(lambda infos: loaded.append(bool(infos)))
        window.strategies.add_strategy.emit(STRATEGY, {})
        _wait(app, lambda: any(loaded), 120)
    collector.freeze()

    applied: list[tuple[float, int]] = []  # (when, events applied since the previous frame)
    last = [0]

    def on_frame(frame: Frame) -> None:
        applied.append((time.perf_counter(), max(0, frame.events_applied - last[0])))
        last[0] = frame.events_applied
        if frame.at_end:
            window.seek_requested.emit(frame.start_ts)
            window.play.emit()

    controller.worker.frame_ready.connect(on_frame)
    window.speed_changed.emit(float("inf"))
    window.play.emit()
    _wait(app, lambda: len(applied) > 10, 60)

    rendered_at: list[float] = []
    cpu_at: list[float] = []
    key_latency: list[float] = []
    pressed: list[float] = []  # when Space (pause) was pressed
    shown_paused = [False]

    def on_shown(frame: Frame) -> None:  # the last view to get the frame
        shown_paused[0] = not frame.playing

    def on_rendered(_ms: float) -> None:
        now = time.perf_counter()
        rendered_at.append(now)
        cpu_at.append(time.thread_time())
        if pressed and shown_paused[0]:
            key_latency.append((now - pressed[0]) * 1e3)
            pressed.clear()
            QTest.keyClick(window, Qt.Key.Key_Space)  # play on

    def press_space() -> None:
        if not pressed and window.transport.playing:
            pressed.append(time.perf_counter())
            QTest.keyClick(window, Qt.Key.Key_Space)

    window.sink.add_consumer(on_shown)
    window.sink.rendered.connect(on_rendered)
    keys = QTimer()
    keys.setInterval(KEY_EVERY_MS)
    keys.timeout.connect(press_space)
    keys.start()
    gc_before = collector.collect_ms
    start = time.perf_counter()
    QTimer.singleShot(int(RUN_S * 1000), app.quit)
    if PROFILE_TO:
        import cProfile

        cProfile.runctx("app.exec()", globals(), {"app": app}, PROFILE_TO)
    else:
        app.exec()
    elapsed = time.perf_counter() - start
    keys.stop()
    gc_ms = collector.collect_ms - gc_before
    window.pause.emit()
    controller.shutdown()
    window.close()
    QApplication.processEvents()
    collector.stop()

    renderer = "opengl" if os.environ.get("REPLAYTERM_OPENGL") == "1" else "software"
    common: dict[str, Any] = {
        "strategy": STRATEGY or None,
        "renderer": renderer,
        "platform": os.environ.get("QT_QPA_PLATFORM"),
        "size": "x".join(map(str, SIZE)),
    }
    times = np.asarray(rendered_at)
    intervals = np.diff(times) * 1e3 if times.size > 1 else np.asarray([np.nan])
    frames = max(1, times.size)
    yield result(
        "gui_frame_interval_p99",
        float(np.percentile(intervals, 99)),
        "ms",
        p50=round(float(np.percentile(intervals, 50)), 2),
        frames_per_s=round(times.size / elapsed, 1),
        target="<= 20",
        **common,
    )
    # GUI-thread CPU per frame in one-second windows (p50 over the windows).
    per_window = []
    cpu = np.asarray(cpu_at)
    for t0 in np.arange(times[0], times[-1] - 1.0, 1.0) if times.size > 1 else []:
        sel = (times >= t0) & (times < t0 + 1.0)
        if sel.sum() > 1:
            idx = np.flatnonzero(sel)
            per_window.append((cpu[idx[-1]] - cpu[idx[0]]) * 1e3 / (idx.size - 1))
    yield result(
        "gui_thread_ms_per_frame",
        float(np.median(per_window)) if per_window else float("nan"),
        "ms",
        p90=round(float(np.percentile(per_window, 90)), 2) if per_window else None,
        target="p50 <= 8",
        **common,
    )
    yield result(
        "gui_key_to_screen_p99",
        float(np.percentile(key_latency, 99)) if key_latency else float("nan"),
        "ms",
        p50=round(float(np.median(key_latency)), 1) if key_latency else None,
        presses=len(key_latency),
        target="<= 50",
        **common,
    )
    worker_rate = sum(n for t, n in applied if start <= t) / elapsed
    yield result(
        "gui_worker_events_per_s",
        worker_rate,
        "events/s",
        headless_batch=round(headless),
        ratio=round(worker_rate / headless, 3),
        target="ratio >= 0.8",
        **common,
    )
    yield result("gui_gc_ms_per_frame", gc_ms / frames, "ms", total_ms=round(gc_ms, 1), **common)
