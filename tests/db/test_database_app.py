"""File ▸ Open Database in the app, against a real PostgreSQL: the dialog's URLs open like files,
the password is never saved, and a bad source is an error dialog with the app still running."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

import replayterm.qt  # noqa: F401  (the PySide6 compatibility guard first)
from replayterm.core.data import open_sources
from replayterm.core.data.postgres.writer import write_tables
from replayterm.qt.controller import ReplayController
from replayterm.qt.main_window import MainWindow
from replayterm.qt.settings import ENV_SETTINGS, open_settings, recent_files
from replayterm.qt.widgets.database_dialog import OpenDatabaseDialog

SAMPLE = Path(__file__).resolve().parents[2] / "data"
FILES = [
    SAMPLE / "synthetic_incremental_book_L2_2024-01-02_SYNTHUSD.csv.gz",
    SAMPLE / "synthetic_trades_2024-01-02_SYNTHUSD.csv.gz",
]


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> QSettings:
    path = tmp_path / "settings.ini"
    monkeypatch.setenv(ENV_SETTINGS, str(path))
    return open_settings(path)


def test_open_database_opens_the_tables_like_files(
    qtbot: QtBot, settings: QSettings, postgres_url: str, table_name: str
) -> None:
    write_tables(open_sources(FILES), postgres_url, table_name)
    password = postgres_url.split(":")[2].split("@")[0]
    window = MainWindow(settings=settings)
    qtbot.addWidget(window)
    controller = ReplayController(window)
    window.show()

    dialog = OpenDatabaseDialog(settings, window)
    dialog.server.setText(postgres_url.replace(f":{password}@", "@"))
    dialog.book_table.setText("missing_table")
    dialog.symbol.setText("SYNTHUSD")
    dialog.accept()  # no password (and none in PGPASSWORD): the server refuses, the app says so
    assert dialog.urls
    window.request_open(dialog.urls)
    qtbot.waitUntil(window.error_dialog.isVisible, timeout=60_000)
    assert "cannot connect to the database" in window.error_dialog.text()
    assert "PGPASSWORD" in window.error_dialog.text()
    window.error_dialog.hide()

    dialog = OpenDatabaseDialog(settings, window)
    dialog.password.setText(password)
    dialog.accept()
    window.request_open(dialog.urls)
    qtbot.waitUntil(
        lambda: "no table or view named 'missing_table'" in window.error_dialog.text(), timeout=60_000
    )

    dialog = OpenDatabaseDialog(settings, window)
    assert dialog.server.text() == postgres_url.replace(f":{password}@", "@")  # remembered, no password
    dialog.password.setText(password)
    dialog.book_table.setText(f"{table_name}_incremental_book_L2")
    dialog.trades_table.setText(f"{table_name}_trades")
    dialog.accept()
    assert len(dialog.urls) == 2
    window.request_open(dialog.urls)
    qtbot.waitUntil(lambda: window.sink.frames_rendered >= 1, timeout=120_000)
    assert window.book.text("symbol") != "—"
    assert any(b for _, b, _ in window.ladder.model.levels())
    qtbot.waitUntil(lambda: "Opened" in window.status_label.text(), timeout=10_000)
    assert password not in window.status_label.text()
    assert f"{table_name}_trades SYNTHUSD" in window.status_label.text()
    assert recent_files(settings) == []  # database sources are not files to reopen from the menu
    assert password not in Path(settings.fileName()).read_text()
    controller.shutdown()
    window.close()


def test_the_dialog_says_what_is_missing(qtbot: QtBot, settings: QSettings) -> None:
    dialog = OpenDatabaseDialog(settings)
    qtbot.addWidget(dialog)
    dialog.server.setText("localhost/db")
    dialog.accept()
    assert "postgresql://" in dialog.error.text()
    dialog.server.setText("postgresql://u@localhost/db")
    dialog.accept()
    assert "Book table" in dialog.error.text()
    dialog.book_table.setText("t")
    dialog.from_edit.setText("yesterday")
    dialog.accept()
    assert "not a time" in dialog.error.text()
    assert dialog.result() == 0


def test_the_apps_server_publishes_to_redis_following_its_transport(
    qtbot: QtBot, settings: QSettings, redis_server: Any
) -> None:
    import redis

    t0 = 1704153660_000000  # 2024-01-02T00:01:00Z
    window = MainWindow(settings=settings)
    qtbot.addWidget(window)
    host = window.serve_host
    host.set_paths([str(f) for f in FILES])
    window.clients.redis.setText(redis_server.url)
    sub = redis.Redis.from_url(redis_server.url).pubsub(ignore_subscribe_messages=True)
    sub.psubscribe("*:*:*")
    try:
        host.start(port=0)
        qtbot.waitUntil(lambda: host.running and host.publisher is not None, timeout=60_000)
        publisher = host.publisher
        assert publisher is not None
        qtbot.waitUntil(lambda: publisher.stream is not None, timeout=60_000)  # it replays from now on
        got: list[dict[str, Any]] = []

        def received() -> bool:
            while (msg := sub.get_message(timeout=0.05)) is not None:
                got.append(json.loads(msg["data"]))
            return bool(got)

        # The app seeks to 00:01:00 (paused) and the publisher's loop takes the seek ...
        host.apply_frame(SimpleNamespace(local_ts=t0, playing=False, speed=1.0, reset=True))  # type: ignore[arg-type]
        qtbot.waitUntil(
            lambda: publisher.loop is not None and publisher.loop.generation == host.clock.generation
        )
        assert not received()  # paused: nothing yet
        # ... then moves on to 00:01:30: Redis gets the book at 00:01:00, everything up to 00:01:30
        # and nothing after.
        host.apply_frame(SimpleNamespace(local_ts=t0 + 30_000_000, playing=False, speed=1.0, reset=False))  # type: ignore[arg-type]

        def drain() -> bool:
            return received() and got[-1]["localTimestamp"] >= "2024-01-02T00:01:29"

        try:
            qtbot.waitUntil(drain, timeout=60_000)
        except Exception:
            raise AssertionError(
                f"{len(got)} messages, last {got[-1:]}; publisher {publisher.state} {publisher.error} "
                f"{publisher.published} task {host._publish_task}"
            ) from None
        assert got[0]["type"] == "book_change"
        assert got[0]["isSnapshot"] is True
        assert got[0]["localTimestamp"] <= "2024-01-02T00:01:00.000001Z"
        assert all(m["localTimestamp"] < "2024-01-02T00:01:30.000001Z" for m in got)
        window.clients.refresh()
        rows = [window.clients.table.item(r, 1).text() for r in range(window.clients.table.rowCount())]
        assert any(text.startswith("REDIS redis://:***@") for text in rows)
    finally:
        sub.close()
        host.close()
