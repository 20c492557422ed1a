"""Play the bundled sample with strategies loaded and save a screenshot of the window.

    xvfb-run -a .venv/bin/python scripts/screenshot_strategy.py [--out /tmp/strategy_shot.png]
        [--strategy market_maker] [--strategy mean_reversion] [--seconds 25] [--speed 10]

Goes through the real replay worker and the strategy panel, exactly as a user would. Prints the
median render time per frame and what the strategies did.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from shot_util import pump as _pump
from shot_util import wait as _wait


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="/tmp/strategy_shot.png")
    ap.add_argument("--strategy", action="append", help="built-in name or .py path (repeatable)")
    ap.add_argument("--seconds", type=float, default=25.0, help="wall seconds to play")
    ap.add_argument("--speed", type=float, default=10.0)
    ap.add_argument("--size", default="1680x1000")
    ap.add_argument("--window", default="", help="chart window, e.g. '10 s' or '5 min'")
    ap.add_argument("--tab", default="fills", choices=("fills", "signals", "log"), help="bottom tab to show")
    args = ap.parse_args()
    strategies = args.strategy or ["market_maker"]

    from replayterm.qt.app import bundled_sample, create_application
    from replayterm.qt.controller import ReplayController
    from replayterm.qt.main_window import MainWindow
    from replayterm.qt.settings import open_settings

    files = bundled_sample()
    if not files:
        print("no bundled sample in data/", file=sys.stderr)
        return 1
    app = create_application([])
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(settings=open_settings(Path(tmp) / "shot.ini"))
        w, h = (int(v) for v in args.size.split("x"))
        window.resize(w, h)
        window.show()
        controller = ReplayController(window)
        times: list[float] = []
        window.sink.rendered.connect(times.append)
        window.request_open(files)
        if not _wait(app, lambda: window.sink.frames_rendered > 0):
            print("the sample did not open", file=sys.stderr)
            return 1
        ui = window.strategies
        for spec in strategies:
            n = len(ui.store)
            ui.load(spec)
            _wait(app, lambda n=n: len(ui.store) > n, 60)
        window.docks[args.tab].raise_()
        if args.window:
            box = window.charts.window_box
            box.setCurrentIndex(max(0, box.findText(args.window)))
        window.transport.set_speed(args.speed)
        window.transport.toggle_play()
        _pump(app, args.seconds)
        window.transport.toggle_play()
        _pump(app, 0.5)
        window.grab().save(args.out)
        for info in ui.store.infos():
            print(
                f"{info.name}: {info.status}, position {info.position:+g}, net {info.pnl.net:+.4f}, "
                f"{info.fills} fills, {info.signals} signals"
            )
        window.close()
        controller.shutdown()
    steady = times[len(times) // 4 :] or [0.0]
    median = statistics.median(steady)
    print(f"saved {args.out}; {len(times)} frames rendered, median {median:.2f} ms per frame")
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
