"""The guards of tests/qt/conftest.py catch a test that leaves a thread running or a window open."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CONFTEST = (
    "import sys\n"
    f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
    "from qt_guards import no_thread_or_window_left  # noqa: F401\n"
)


def test_a_thread_left_running_fails_the_test(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(
        """
        import threading
        from PySide6.QtCore import QThread

        gate = threading.Event()

        class Stuck(QThread):
            def run(self):
                gate.wait(30)

        def test_leaves_a_thread(qtbot):
            test_leaves_a_thread.t = Stuck()
            test_leaves_a_thread.t.start()

        def test_after():
            gate.set()
            test_leaves_a_thread.t.wait()
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-o", "timeout=120")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*left QThreads running*"])


def test_a_window_left_open_fails_the_test(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(
        """
        from PySide6.QtWidgets import QMainWindow

        def test_leaves_a_window(qtbot):
            test_leaves_a_window.w = QMainWindow()
            test_leaves_a_window.w.show()

        def test_closes_its_window(qtbot):
            w = QMainWindow()
            qtbot.addWidget(w)
            w.show()
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*left windows open*QMainWindow*"])
