"""Where the time and memory of a run go, per phase and per epoch.

Imports nothing of this project, so the benchmark can time the tutorial's plain script
with it too (benchmarks/tutorial_cnn.py loads this file alone).
"""

from __future__ import annotations

import os
import sys
import time

import keras


def _seconds_since_process_start() -> float | None:
    """How long this process has run: Python's start-up and imports, on Linux."""
    try:
        with open("/proc/self/stat") as f:
            # Field 22: start time in clock ticks since boot. Field 2, the name, may hold spaces.
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        return time.clock_gettime(time.CLOCK_BOOTTIME) - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def _peak_memory_mb() -> float | None:
    """The largest resident memory of this process so far, in MiB (Linux and macOS)."""
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (2**20 if sys.platform == "darwin" else 2**10), 1)  # bytes vs KiB


class PhaseClock:
    """Seconds and peak memory per phase of a run: start it first thing, `lap` after each phase."""

    def __init__(self) -> None:
        started = _seconds_since_process_start()
        self.seconds: dict[str, float] = {} if started is None else {"import": round(started, 3)}
        self.peak_memory_mb: dict[str, float | None] = {"import": _peak_memory_mb()}
        self._last = time.perf_counter()

    def lap(self, phase: str) -> float:
        """Close `phase`; return its seconds so far."""
        now = time.perf_counter()
        # A phase seen again (a model trained in parts: fit after fit) adds up.
        self.seconds[phase] = round(self.seconds.get(phase, 0.0) + now - self._last, 3)
        self.peak_memory_mb[phase] = _peak_memory_mb()
        self._last = now
        return self.seconds[phase]


class EpochTimer(keras.callbacks.Callback):
    """Records how long each training epoch takes, validation included."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.seconds.append(round(time.perf_counter() - self._start, 3))
