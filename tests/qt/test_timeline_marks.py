"""The timeline slider marks day boundaries and the part still being indexed."""

from __future__ import annotations

from PySide6.QtGui import QColor

from replayterm.qt import theme
from replayterm.qt.widgets.timeline_slider import TimelineSlider

DAY = 86_400_000_000


def test_day_marks_and_indexed_part_are_painted(qtbot) -> None:  # type: ignore[no-untyped-def]
    slider = TimelineSlider()
    qtbot.addWidget(slider)
    slider.resize(700, 30)
    slider.set_span(0, 7 * DAY)
    slider.set_day_marks([d * DAY for d in range(1, 7)])
    assert slider.day_marks() == [d * DAY for d in range(1, 7)]
    plain = slider.grab().toImage()
    slider.set_indexed(2 * DAY)
    shaded = slider.grab().toImage()
    day_blue = QColor(theme.ACCENT).rgb()
    x = slider._groove().left() + round(1 / 7 * (slider._groove().width() - 1))
    assert any(plain.pixel(x, y) == day_blue for y in range(plain.height()))
    # the indexed part gets a green line, the rest is hatched: the pictures differ there
    right = [(x, y) for x in range(500, 600) for y in range(shaded.height())]
    assert any(plain.pixel(*p) != shaded.pixel(*p) for p in right)
    green = QColor(theme.OK).rgb()
    assert any(shaded.pixel(60, y) == green for y in range(shaded.height()))
    slider.set_indexed(None)
    assert slider.grab().toImage() == plain
