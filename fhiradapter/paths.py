"""Where the bundled data lives, in a checkout and in an installed wheel.

The wheel carries `profiles/` and `mappings/` under `fhiradapter/_bundled/`; a checkout (or an
editable install) keeps them at the repository root. Everything that reads them asks here.
"""
from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = PACKAGE_DIR / "data"


def _bundled(name: str) -> Path:
    installed = PACKAGE_DIR / "_bundled" / name
    if installed.is_dir():
        return installed
    return PACKAGE_DIR.parent / name


def profiles_dir() -> Path:
    """The FHIR package folder (package.json, StructureDefinitions, ValueSets, ...)."""
    return _bundled("profiles")


def mappings_dir() -> Path:
    """The shipped mapping files."""
    return _bundled("mappings")


def repo_root() -> Path | None:
    """The checkout root when running from one (examples/, tools/ exist only there)."""
    root = PACKAGE_DIR.parent
    return root if (root / "pyproject.toml").is_file() else None
