"""The exported package stands on its own (issue 16): same bytes every run, both indexes, narrative,
metadata as sushi-config.yaml says, no unbacked US Core claim, public citations only."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import yaml

from fhiradapter.citations import INTERNAL_REFERENCE

from .conftest import PROFILES, REPO

CONFORMANCE = {"StructureDefinition", "CodeSystem", "ValueSet"}


def _export(out: Path) -> bytes:
    proc = subprocess.run([sys.executable, "-c", "from fhiradapter.cli import main; main()", "profiles", "export",
                           "--out", str(out)], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    return out.read_bytes()


def _members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


def test_two_exports_are_byte_identical(tmp_path: Path) -> None:
    # Separate processes and different file names: nothing of the run (time, path, hash seed) may leak in.
    first = _export(tmp_path / "a.tgz")
    second = _export(tmp_path / "sub" / "other-name.tgz")
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()


def test_package_is_self_describing(tmp_path: Path) -> None:
    files = _members(tmp_path / "p.tgz") if _export(tmp_path / "p.tgz") else {}
    config = yaml.safe_load((PROFILES / "fsh" / "sushi-config.yaml").read_text(encoding="utf-8"))
    manifest = json.loads(files["package/package.json"])
    assert manifest["dependencies"] == {"hl7.fhir.r4.core": "4.0.1"}
    assert manifest["date"].startswith(str(config["date"]).replace("-", ""))
    for index_name, folder in (("package/.index.json", "package/"), ("package/examples/.index.json",
                                                                      "package/examples/")):
        index = json.loads(files[index_name])
        assert index["index-version"] == 1
        listed = {folder + e["filename"] for e in index["files"]}
        present = {n for n in files if n.startswith(folder) and n.count("/") == folder.count("/")
                   and n.endswith(".json") and not n.endswith(("package.json", ".index.json"))}
        assert listed == present, index_name
    resources = {n: json.loads(b) for n, b in files.items() if n.endswith(".json") and "index" not in n
                 and not n.endswith("package.json")}
    assert len(resources) > 90
    for name, resource in resources.items():
        text = resource.get("text", {})
        assert text.get("status") == "generated" and text["div"].startswith('<div xmlns="http://www.w3.org/1999/xhtml">'), name
        assert not INTERNAL_REFERENCE.search(json.dumps(resource)), name
        if resource["resourceType"] in CONFORMANCE:
            assert resource["status"] == config["status"] == "draft", name
            assert resource["publisher"] == config["publisher"]["name"], name
            assert resource["date"] == str(config["date"]), name
            assert resource["contact"][0]["telecom"][0]["value"] == config["publisher"]["url"], name
            # The package does not depend on US Core, so it claims no compliance with it.
            assert "compliesWithProfile" not in json.dumps(resource.get("extension", [])), name
    assert any(n.startswith("package/examples/") for n in resources)
