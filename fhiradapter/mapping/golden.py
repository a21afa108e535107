"""Golden tests declared in a mapping (`tests:`): input folder -> expected NDJSON + errors."""
from __future__ import annotations

import difflib
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from fhiradapter.mapping.loader import Mapping
from fhiradapter.mapping.run import map_input


@dataclass
class GoldenResult:
    name: str
    passed: bool
    diffs: list[str] = field(default_factory=list)   # unified diffs, one per differing file


def _compared_files(folder: Path) -> dict[str, Path]:
    files = {f"ndjson/{p.name}": p for p in sorted((folder / "ndjson").glob("*.ndjson"))}
    if (folder / "errors.ndjson").is_file():
        files["errors.ndjson"] = folder / "errors.ndjson"
    return files


def run_golden(mapping: Mapping, *, update: bool = False) -> list[GoldenResult]:
    results = []
    for test in mapping.tests:
        with tempfile.TemporaryDirectory(prefix="fhiradapter-golden-") as tmp:
            out = Path(tmp)
            map_input(mapping, test["input"], out, bundles=False)
            actual = _compared_files(out)
            expect_dir: Path = test["expect"]
            if update:
                if expect_dir.exists():
                    shutil.rmtree(expect_dir)
                (expect_dir / "ndjson").mkdir(parents=True)
                for rel, path in actual.items():
                    shutil.copyfile(path, expect_dir / rel)
                results.append(GoldenResult(test["name"], True))
                continue
            expected = _compared_files(expect_dir) if expect_dir.is_dir() else {}
            diffs = []
            for rel in sorted(set(actual) | set(expected)):
                a = actual[rel].read_text("utf-8").splitlines(keepends=True) if rel in actual else []
                e = expected[rel].read_text("utf-8").splitlines(keepends=True) if rel in expected else []
                if a != e:
                    diffs.append("".join(difflib.unified_diff(e, a, fromfile=f"expected/{rel}", tofile=f"actual/{rel}")))
            results.append(GoldenResult(test["name"], not diffs, diffs))
    return results
