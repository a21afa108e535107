from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from .browser import Browser, chromium_path


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """A real headless Chromium (Debian package); FAILS under CI=true when missing."""
    chrome = Browser(chromium_path())
    try:
        yield chrome
    finally:
        chrome.close()


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The guide built from the shipped package (the rule catalogue's findings: the package examples)."""
    from fhiradapter.guide import build_guide
    out = tmp_path_factory.mktemp("site")
    build_guide(out)
    return out
