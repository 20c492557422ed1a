"""FrameGate: while playing, the worker publishes only as fast as the GUI receives frames."""

from __future__ import annotations

from replayterm.qt.worker.playback import FRAME_OVERDUE_S, MAX_FRAMES_IN_FLIGHT, FrameGate


def test_frames_wait_for_the_gui_to_receive_them() -> None:
    gate = FrameGate(enabled=True)
    t = 100.0
    for _ in range(MAX_FRAMES_IN_FLIGHT):
        assert gate.may_publish(t)
        gate.publish(t)
    assert not gate.may_publish(t + 0.01)  # the GUI has not taken any yet
    gate.receive()
    assert gate.may_publish(t + 0.01)
    gate.publish(t + 0.01)
    assert not gate.may_publish(t + 0.02)
    assert gate.may_publish(t + 0.01 + FRAME_OVERDUE_S)  # never silent for long


def test_a_disabled_gate_always_publishes() -> None:
    gate = FrameGate()
    for i in range(10):
        assert gate.may_publish(float(i))
        gate.publish(float(i))
