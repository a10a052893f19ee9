"""A sink backend for tests: keeps what it is asked to write; fails the first ``fail``."""

from __future__ import annotations

from sinks.base import Batch


class Recorder:
    """Keeps each batch written; the first ``fail`` writes raise ``ConnectionError``."""

    def __init__(self, fail: int = 0) -> None:
        self.batches: list[Batch] = []
        self.fail = fail

    def write(self, batch: Batch) -> None:
        if self.fail:
            self.fail -= 1
            raise ConnectionError("store down")
        self.batches.append(batch)
