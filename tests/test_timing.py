"""common/timing.py: the phase clock, alone as the tutorial's baseline loads it."""

from __future__ import annotations

import importlib.util

from conftest import ROOT


def test_the_phase_clock_loads_alone_as_the_tutorial_baseline_loads_it() -> None:
    """benchmarks/tutorial_cnn.py loads common/timing.py by path, without common/."""

    spec = importlib.util.spec_from_file_location("timing_alone", ROOT / "common" / "timing.py")
    timing = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(timing)
    timing.PhaseClock().lap("build")
    assert timing.EpochTimer().seconds == []
