"""The restore's pause of the cyclic garbage collector: off inside, back as it was after
(also when the load fails), never switched on by a caller that had it off."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from pipeline.bulk import cyclic_gc_paused


@pytest.fixture
def gc_restored() -> Iterator[None]:
    was = gc.isenabled()
    yield
    (gc.enable if was else gc.disable)()


@pytest.mark.usefixtures("gc_restored")
def test_paused_inside_and_resumed_after_even_on_an_error() -> None:
    gc.enable()
    with cyclic_gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError, match="bad record"), cyclic_gc_paused():
        raise ValueError("bad record")
    assert gc.isenabled()


@pytest.mark.usefixtures("gc_restored")
def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with cyclic_gc_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()
