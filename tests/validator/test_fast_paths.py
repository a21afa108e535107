"""The walker's shortcuts must decide exactly as the general code they skip (speed, same verdicts)."""
from __future__ import annotations

import random

from fhiradapter.validator.walker import _instant_key, _start_after_end


def _general(start: str, end: str) -> bool:
    return _instant_key(start, low=True) > _instant_key(end, low=False)


def _values(rng: random.Random) -> str:
    """Mostly well-formed dateTimes (so the shortcut decides), with edge years, odd zones and broken
    parts mixed in."""
    odd = rng.random() < 0.2
    year = rng.choice(["2024", "2025", "1999"] + (["1000", "1001", "0999", "9998", "9999", "0001"] if odd else []))
    month = rng.choice(["01", "02", "06", "12"] + (["13", "00"] if odd else []))
    day = rng.choice(["01", "15", "28"] + (["29", "30", "31"] if odd else []))
    hour = rng.choice(["00", "09", "12", "23"] + (["24"] if odd else []))
    minute = rng.choice(["00", "30", "59"])
    second = rng.choice(["00", "59"] + (["60"] if odd else []))
    frac = rng.choice(["", "", ".5", ".123456", ".1234567", ".000001"])
    zone = rng.choice(["Z", "+00:00", "-07:00", "+14:00", "-12:00", "+05:30", ""] + (["z", "+25:00"] if odd else []))
    date = f"{year}-{month}-{day}"
    shape = rng.randrange(8)
    if shape == 0:
        return date[: rng.choice([4, 7, 10])]
    if shape == 1:
        return f"{date}T{hour}:{minute}"
    return f"{date}T{hour}:{minute}:{second}{frac}{zone}"


def test_period_shortcut_orders_like_the_keys() -> None:
    rng = random.Random(7)
    decided = 0
    for _ in range(60_000):
        start, end = _values(rng), _values(rng)
        fast = _start_after_end(start, end)
        if fast is not None:
            decided += 1
            assert fast == _general(start, end), (start, end)
    assert decided > 10_000   # the shortcut is actually exercised


def test_period_shortcut_leaves_edge_years_and_mixed_zones_to_the_keys() -> None:
    assert _start_after_end("0999-12-31T23:00:00-02:00", "1000-01-01T00:00:00Z") is None
    assert _start_after_end("9999-12-31T23:00:00Z", "9999-12-31T23:30:00Z") is None
    assert _start_after_end("2024-03-01T10:00:00", "2024-03-01T09:00:00Z") is None
    assert _start_after_end("2024-03-01", "2024-03-01T09:00:00Z") is None
    assert _start_after_end("2024-02-30T10:00:00Z", "2024-03-01T09:00:00Z") is None
    assert _start_after_end("2024-03-01T10:00:00-07:00", "2024-03-01T16:00:00Z") is True
    assert _start_after_end("2024-03-01T10:00:00-07:00", "2024-03-01T17:00:00Z") is False
