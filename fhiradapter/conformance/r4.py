"""The committed R4 4.0.1 base model (fhiradapter/data/r4/definitions.zip), read lazily per member.

Built by tools/build_r4_model.py. Opening costs one small index read; each StructureDefinition,
ValueSet or CodeSystem is parsed the first time it is asked for.
"""
from __future__ import annotations

import os
import threading
import zipfile
from pathlib import Path
from typing import Any

import orjson

from ..paths import DATA_DIR
from .terminology import ValueSetExpansion

ARCHIVE = DATA_DIR / "r4" / "definitions.zip"


class R4Base:
    """Read-only R4 core definitions. One shared instance per process (see `shared()`)."""

    _shared: "R4Base | None" = None
    _lock = threading.Lock()

    def __init__(self, archive: Path = ARCHIVE) -> None:
        if not archive.is_file():
            raise FileNotFoundError(f"R4 base model {archive} is missing; run `python tools/build_r4_model.py`")
        self._archive = archive
        self._zip = zipfile.ZipFile(archive)
        self._pid = os.getpid()
        self._read_lock = threading.Lock()
        self._cache: dict[str, Any] = {}
        index = self._member("index.json")
        self.sd_index: dict[str, dict[str, Any]] = index["sd"]
        self.types: dict[str, str] = index["types"]
        self.vs_index: dict[str, dict[str, Any]] = index["vs"]
        self.cs_index: dict[str, dict[str, Any]] = index["cs"]
        self.ids: dict[str, str] = {}
        for url, entry in self.sd_index.items():
            self.ids.setdefault(entry["id"], url)
        self._expansions: dict[str, Any] | None = None

    @classmethod
    def shared(cls) -> "R4Base":
        with cls._lock:
            if cls._shared is None:
                cls._shared = cls()
            return cls._shared

    def _member(self, name: str) -> Any:
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        with self._read_lock:
            if self._pid != os.getpid():
                # a forked worker (--jobs): the inherited handle shares its file offset with the parent
                # and the other workers, so reads would interleave; each process opens its own
                self._zip = zipfile.ZipFile(self._archive)
                self._pid = os.getpid()
            data = orjson.loads(self._zip.read(name))
        self._cache[name] = data
        return data

    def structure_definition(self, url: str) -> dict[str, Any] | None:
        entry = self.sd_index.get(url)
        return self._member(entry["member"]) if entry else None

    def url_for_type(self, type_name: str) -> str | None:
        return self.types.get(type_name) or self.ids.get(type_name)

    def value_set(self, url: str) -> dict[str, Any] | None:
        entry = self.vs_index.get(url)
        return self._member(entry["member"]) if entry else None

    def code_system(self, url: str) -> dict[str, Any] | None:
        entry = self.cs_index.get(url)
        return self._member(entry["member"]) if entry else None

    def expansion(self, url: str) -> ValueSetExpansion | None:
        """Precomputed expansion of a base ValueSet bound required/extensible; None when not enumerable."""
        if self._expansions is None:
            self._expansions = self._member("expansions.json")
        entry = self._expansions.get(url)
        if not entry or not entry["codes"]:
            return None
        pairs = ((system, code) for system, codes in entry["codes"].items() for code in codes)
        return ValueSetExpansion.of(url, pairs, entry.get("external", ()))

    def has_expansion(self, url: str) -> bool:
        if self._expansions is None:
            self._expansions = self._member("expansions.json")
        return url in self._expansions
