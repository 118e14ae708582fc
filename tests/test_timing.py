"""common/timing.py: the phase clock, alone as the tutorial's baseline loads it."""

from __future__ import annotations

import importlib.util
import time
import types

from conftest import ROOT


def test_the_phase_clock_loads_alone_as_the_tutorial_baseline_loads_it() -> None:
    """benchmarks/tutorial_cnn.py loads common/timing.py by path, without common/."""

    spec = importlib.util.spec_from_file_location("timing_alone", ROOT / "common" / "timing.py")
    timing = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(timing)
    timing.PhaseClock().lap("build")
    assert timing.EpochTimer().seconds == []


def clock_at(*readings: float) -> types.SimpleNamespace:
    """The time module as common/timing.py uses it, its perf_counter giving `readings`."""
    now = iter(readings)
    return types.SimpleNamespace(perf_counter=lambda: next(now), clock_gettime=time.clock_gettime,
                                 CLOCK_BOOTTIME=time.CLOCK_BOOTTIME)  # fmt: skip


def test_laps_add_up_per_phase_and_record_memory(monkeypatch) -> None:
    """Each lap closes its phase from the last lap; a phase seen again adds up."""
    from common import timing

    monkeypatch.setattr(timing, "time", clock_at(100.0, 101.5, 104.0, 104.25))  # start, 3 laps
    clock = timing.PhaseClock()
    assert clock.seconds["import"] > 0  # since this process started: Python's start-up
    assert clock.lap("build") == 1.5
    assert clock.lap("fit") == 2.5
    assert clock.lap("build") == 1.75  # 1.5 before, 0.25 now
    assert set(clock.seconds) == {"import", "build", "fit"}
    assert all(mb is None or mb > 0 for mb in clock.peak_memory_mb.values())


def test_the_epoch_timer_records_each_epoch(monkeypatch) -> None:
    from common import timing

    monkeypatch.setattr(timing, "time", clock_at(0.0, 2.0, 2.5, 3.0))
    timer = timing.EpochTimer()
    for epoch in range(2):
        timer.on_epoch_begin(epoch)
        timer.on_epoch_end(epoch)
    assert timer.seconds == [2.0, 0.5]
