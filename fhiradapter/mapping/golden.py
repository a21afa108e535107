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
                _write_expected(mapping.path.parent, expect_dir, actual)
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


class GoldenPathError(ValueError):
    """A test's `expect` folder is outside the mapping's folder or reached through a link."""


def _write_expected(base: Path, expect_dir: Path, actual: dict[str, Path]) -> None:
    """Replace the expected files of one test; only our files (ndjson/*.ndjson, errors.ndjson) are
    removed, and only in a real folder inside the mapping's folder: an `expect:` naming somewhere
    else (`../..`, an absolute path, a link) is refused, never emptied."""
    root = base.resolve()
    target = expect_dir.resolve()
    if target != root and root not in target.parents:
        raise GoldenPathError(f"expect folder {expect_dir} is outside the mapping's folder {base}")
    for folder in (expect_dir, expect_dir / "ndjson"):
        if folder.is_symlink():
            raise GoldenPathError(f"expect folder {folder} is a symbolic link; refusing to write through it")
    (expect_dir / "ndjson").mkdir(parents=True, exist_ok=True)
    stale = [p for p in (expect_dir / "ndjson").glob("*.ndjson")] + [expect_dir / "errors.ndjson"]
    for path in stale:
        if path.is_symlink() or path.is_file():
            path.unlink()
    for rel, path in actual.items():
        shutil.copyfile(path, expect_dir / rel)
