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
