"""Render the main window and save a screenshot.

    xvfb-run -a .venv/bin/python scripts/screenshot_views.py [--out /tmp/gui_shot.png] [--frames 400]
    xvfb-run -a .venv/bin/python scripts/screenshot_views.py --sample [--seconds 20] [--speed 10]
    .venv/bin/python scripts/screenshot_views.py --sample --files F... --speed max --size 1920x1080 \
        --strategy market_maker --out docs/screenshot.png     (the README's screenshot, under Xvfb)

By default the window is fed hand-made frames (a random-walk book, no replay engine involved);
``--sample`` plays the bundled sample through the real replay worker instead. Prints the median
time the views took to render one frame.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _load_frames_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("qt_frames", REPO / "tests" / "qt" / "qt_frames.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="/tmp/gui_shot.png")
    ap.add_argument("--frames", type=int, default=400)
    ap.add_argument("--dt-ms", type=int, default=150, help="simulated time between frames")
    ap.add_argument("--size", default="1680x1000")
    ap.add_argument("--sample", action="store_true", help="play data/ through the replay worker")
    ap.add_argument("--seconds", type=float, default=20.0, help="with --sample: wall seconds to play")
    ap.add_argument("--speed", default="10", help="with --sample: replay speed (a number or max)")
    ap.add_argument("--files", nargs="*", default=None, help="with --sample: play these instead")
    ap.add_argument("--strategy", default=None, help="with --sample: load this strategy first")
    args = ap.parse_args()

    from PySide6.QtWidgets import QApplication

    from replayterm.qt.app import create_application
    from replayterm.qt.main_window import MainWindow
    from replayterm.qt.settings import open_settings

    frames = _load_frames_module()
    app = create_application([])
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(settings=open_settings(Path(tmp) / "shot.ini"))
        w, h = (int(v) for v in args.size.split("x"))
        window.resize(w, h)
        window.show()
        QApplication.processEvents()
        if args.sample:
            return _play_sample(app, window, args)
        walk = frames.BookWalk(seed=11)
        window.set_gaps([walk.start + 3_600_000_000, walk.start + 4 * 3_600_000_000 + 900_000_000])
        times = []
        for i in range(args.frames):
            window.show_frame(walk.step(dt_us=args.dt_ms * 1000, reset=i == 0))
            window.sink.flush()
            times.append(window.sink.last_render_ms)
            if i % 10 == 0:
                QApplication.processEvents()
        window.set_progress(0.42, "Indexing checkpoints…")
        window.log_panel.append_record(20, "12:00:00 INFO    replayterm.qt: Opened BTCUSDT book + trades")
        window.log_panel.append_record(30, "12:00:01 WARNING replayterm.core: 1 sequence gap at 13:00:00.000")
        for _ in range(5):
            QApplication.processEvents()
        window.grab().save(args.out)
        window.close()
    steady = times[len(times) // 4 :]
    print(
        f"saved {args.out}; render per frame: median {statistics.median(steady):.2f} ms, "
        f"p90 {sorted(steady)[int(len(steady) * 0.9)]:.2f} ms over {len(steady)} frames"
    )
    app.quit()
    return 0


def _play_sample(app, window, args) -> int:  # type: ignore[no-untyped-def]
    import time

    from replayterm.qt.app import bundled_sample
    from replayterm.qt.controller import ReplayController

    files = args.files or bundled_sample()
    if not files:
        print("no bundled sample in data/", file=sys.stderr)
        return 1
    controller = ReplayController(window)
    times: list[float] = []
    window.sink.rendered.connect(times.append)
    window.request_open(files)
    deadline = time.monotonic() + 120
    while window.sink.frames_rendered == 0 and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.005)
    if args.strategy:
        loaded: list[bool] = []
        controller.worker.strategies_changed.connect(lambda infos: loaded.append(bool(infos)))
        window.strategies.add_strategy.emit(args.strategy, {})
        while not any(loaded) and time.monotonic() < deadline + 120:
            app.processEvents()
            time.sleep(0.005)
    window.transport.set_speed(float("inf") if args.speed == "max" else float(args.speed))
    window.transport.toggle_play()
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.002)
    window.grab().save(args.out)
    window.close()
    controller.shutdown()
    steady = times[len(times) // 4 :] or [0.0]
    print(f"saved {args.out}; {len(times)} frames rendered, median {statistics.median(steady):.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
