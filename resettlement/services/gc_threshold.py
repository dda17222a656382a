"""Fewer garbage collections while a long job builds many objects (an import of a large file).

Python runs its cycle collector every 700 new container objects; a collection of the older
generations walks every object still alive, and an import keeps tens of thousands of them (its
look-ups, the rows it has planned, the preview's lists). On a 50,000-row file at 1.2 million
people that was about 1,500 collections and 2 seconds of the commit's 16. Raising the first
threshold while the job runs keeps cycles collected, just less often; reference counting,
which frees almost everything, is untouched.

The threshold is the process's, shared by its threads: it is raised while at least one job is
running and set back to what it was when the last one ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: New container objects between two collections of the youngest generation, during a job.
JOB_THRESHOLD = 20_000

_lock = threading.Lock()
_running = 0
_saved: tuple[int, ...] = ()


@contextmanager
def fewer_collections() -> Iterator[None]:
    global _running, _saved
    with _lock:
        if _running == 0:
            _saved = gc.get_threshold()
            gc.set_threshold(max(JOB_THRESHOLD, _saved[0]), *_saved[1:])
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0:
                gc.set_threshold(*_saved)
