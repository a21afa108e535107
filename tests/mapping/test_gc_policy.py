"""map_input tunes the garbage collector for its run only: a program embedding fhiradapter gets its
own settings back, and what was frozen becomes collectable again."""
from __future__ import annotations

import gc

import pytest

from fhiradapter.gcpolicy import YOUNG_THRESHOLD, long_run


def test_settings_come_back_after_the_run() -> None:
    before = gc.get_threshold()
    with long_run():
        assert gc.get_threshold()[0] >= YOUNG_THRESHOLD
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_settings_come_back_when_the_run_fails() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError):
        with long_run():
            raise RuntimeError("boom")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_held_records_are_frozen_only_inside_a_run_and_collectable_after_it() -> None:
    """validate with rules keeps held member records out of the collector's passes during its run
    (gcpolicy.keep_long_lived); an embedding program calling it outside a run keeps its collector as
    it was, and nested runs give everything back when the outermost ends."""
    from fhiradapter.gcpolicy import keep_long_lived
    keep_long_lived()
    assert gc.get_freeze_count() == 0
    with long_run():
        with long_run():
            held = [{"resourceType": "Encounter", "id": str(n)} for n in range(100)]
            keep_long_lived()
            assert gc.get_freeze_count() >= len(held)
        assert gc.get_freeze_count() > 0   # the inner run's end leaves the outer run's freeze
    assert gc.get_freeze_count() == 0
