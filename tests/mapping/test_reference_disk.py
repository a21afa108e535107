"""Issue 18: past a bound the reference graph of the orphan hold-back moves to disk (refstore.py) so
mapping memory stays flat; what is held back, with which reason, and which duplicates are found must
not change. Each case is mapped with the graph in memory and with it on disk from the first resource,
and the outputs compared byte for byte."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from fhiradapter.canonical import PROGRAMS
from fhiradapter.cli.run import shipped_mapping
from fhiradapter.mapping import orphans, refstore
from fhiradapter.mapping.loader import load_mapping
from fhiradapter.mapping.run import map_input

ROOT = Path(__file__).resolve().parents[2]

BODY = """\
sources:
  members: {file: members.csv}
  contacts: {file: contacts.csv}
  notes: {file: notes.csv}
resources:
  - name: member
    source: members
    key: {$col: id}
    template:
      resourceType: Patient
      birthDate: {$date: {$col: dob, required: true}, format: "%m/%d/%Y"}
  - name: contact
    source: contacts
    key: {$col: id}
    template:
      resourceType: Encounter
      status: finished
      class: {system: "http://terminology.hl7.org/CodeSystem/v3-ActCode", code: AMB}
      subject: {$ref: member, key: {$col: member}}
  - name: note
    source: notes
    key: {$col: id}
    template:
      resourceType: Observation
      status: final
      code: {text: note}
      subject: {$ref: member, key: {$col: member}}
      encounter: {$ref: contact, key: {$col: contact}}
"""
FILES = {
    # M2 (line 3) is rejected; C2 depends on it, N2 on C2 (transitively); C3 reuses C1's key (a duplicate)
    "members.csv": "id,dob\nM1,01/02/1980\nM2,\nM3,03/04/1990\n",
    "contacts.csv": "id,member\nC1,M1\nC2,M2\nC1,M3\nC4,M3\nC5,M9\n",
    "notes.csv": "id,member,contact\nN1,M1,C1\nN2,M1,C2\nN3,M3,C4\nN4,M3,C5\n",
}


def _outputs(out: Path) -> dict[str, bytes]:
    """Every output but the HTML report (its page names no resource the comparison would miss)."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.suffix != ".html"}


def _scratch_files() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("fhiradapter-refs-*")}


def test_held_back_rows_and_duplicates_are_the_same_on_disk(mapper, monkeypatch: pytest.MonkeyPatch) -> None:
    in_memory = mapper(BODY, FILES)
    before = _scratch_files()
    monkeypatch.setattr(orphans, "MEMORY_NODES", 1)
    monkeypatch.setattr(refstore, "_BATCH", 1)   # each resource in the file at once: the duplicate asks SQLite
    on_disk = mapper(BODY, FILES)
    assert _outputs(on_disk.out) == _outputs(in_memory.out)
    held = [e for e in on_disk.errors if e["stage"] == "held-back"]
    assert [(e["file"], e["line"]) for e in held] == [("contacts.csv", 3), ("contacts.csv", 6),
                                                     ("notes.csv", 3), ("notes.csv", 5)]
    assert "depends on members.csv:3" in held[2]["issues"][0]["message"]   # N2 -> C2 -> M2
    assert any("already used by line 2" in e["issues"][0]["message"] for e in on_disk.errors)
    assert _scratch_files() <= before   # the scratch file is gone with the run


@pytest.mark.parametrize("program", PROGRAMS)
def test_the_examples_map_the_same_with_the_graph_on_disk(program: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The example exports' planted problems (orphans, duplicate keys, consent limits) on both sides."""
    mapping = load_mapping(shipped_mapping(program))
    map_input(mapping, ROOT / "examples" / program, tmp_path / "memory", provenance_time="2026-01-01T00:00:00Z")
    monkeypatch.setattr(orphans, "MEMORY_NODES", 3)   # moves to disk part-way through the first source
    map_input(mapping, ROOT / "examples" / program, tmp_path / "disk", provenance_time="2026-01-01T00:00:00Z")
    assert _outputs(tmp_path / "disk") == _outputs(tmp_path / "memory")
