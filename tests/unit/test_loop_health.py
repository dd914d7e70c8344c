"""A failing loop's pause before its next attempt."""

from __future__ import annotations

from shaobing_runtime.health import LoopHealth


def test_the_pause_doubles_to_5_s_and_stays_there_however_long_the_loop_fails():
    health = LoopHealth()
    pauses = [health.failed(OSError("away"), passes=True) for _ in range(2000)]
    assert pauses[:6] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    assert set(pauses[5:]) == {5.0}  # 1,025 failures (85 min at 5 s) overflowed a float
