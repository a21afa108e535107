"""Helpers for mapping tests: write a mapping + input files into tmp_path, map, read outputs."""
from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fhiradapter.mapping.errorfile import read_errors
from fhiradapter.mapping.loader import load_mapping
from fhiradapter.mapping.run import map_input

HEADER = """\
fhiradapter-mapping: 1
id: t
version: 1.0.0
agency: test-agency
timezone: America/New_York
"""


@dataclass
class Result:
    summary: dict[str, Any]
    out: Path

    def resources(self, resource_type: str) -> list[dict[str, Any]]:
        path = self.out / "ndjson" / f"{resource_type}.ndjson"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text("utf-8").splitlines()]

    @property
    def errors(self) -> list[dict[str, Any]]:
        """errors.ndjson's rows (OperationOutcome lines) read back flat by the library's reader."""
        return list(read_errors(self.out / "errors.ndjson"))

    @property
    def messages(self) -> list[str]:
        return [i["message"] for e in self.errors for i in e["issues"]]


@pytest.fixture
def mapper(tmp_path: Path):
    """mapper(body_yaml, {file: text or bytes}, **map_input options) -> Result."""
    counter = {"n": 0}

    def run(body: str, files: dict[str, str | bytes], *, header: str = HEADER, **options: Any) -> Result:
        counter["n"] += 1
        base = tmp_path / f"case{counter['n']}"
        (base / "in").mkdir(parents=True)
        mapping_path = base / "mapping.yaml"
        mapping_path.write_text(header + textwrap.dedent(body), encoding="utf-8")
        for name, content in files.items():
            target = base / "in" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(textwrap.dedent(content), encoding="utf-8")
        mapping = load_mapping(mapping_path)
        summary = map_input(mapping, base / "in", base / "out", **options)
        return Result(summary, base / "out")

    return run


@pytest.fixture
def write_mapping(tmp_path: Path):
    def write(body: str, name: str = "mapping.yaml", header: str = HEADER) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(header + textwrap.dedent(body), encoding="utf-8")
        return path
    return write
