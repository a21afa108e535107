"""The directive table is the one list: the schema file, the option checks and the docs follow it."""
from __future__ import annotations

import json
import re
from pathlib import Path

from fhiradapter.mapping import compiler
from fhiradapter.mapping.directives import NAMES, TABLE, option_table, schema_definition
from fhiradapter.mapping.loader import _OPTIONS, schema

ROOT = Path(__file__).resolve().parents[2]


def test_the_schema_file_lists_exactly_the_table():
    shipped = json.loads((ROOT / "fhiradapter" / "mapping" / "schema" / "mapping-v1.schema.json").read_text("utf-8"))
    assert shipped["$defs"]["directive"] == schema_definition(), \
        "run python -m fhiradapter.mapping.directives --write-schema"
    names = [branch["if"]["required"][0] for branch in schema()["$defs"]["directive"]["allOf"]]
    assert names == list(NAMES)


def test_option_checks_and_handlers_come_from_the_table():
    assert _OPTIONS == option_table()
    assert set(_OPTIONS) == set(NAMES)
    for directive in TABLE:
        assert compiler._handler(directive.name) is directive.compile
    assert compiler._handler("$nope") is None


def test_every_directive_is_documented():
    doc = (ROOT / "docs" / "mapping-language.md").read_text(encoding="utf-8")
    table = set(re.findall(r"^\| `\{(\$[a-z]+)", doc, re.M))
    assert table == set(NAMES), "the directive table in docs/mapping-language.md"
    for name in NAMES:
        assert re.search(rf"^### .*`{re.escape(name)}`", doc, re.M), f"no ### section for {name}"


def test_an_unknown_directive_names_the_known_ones(write_mapping):
    from fhiradapter.mapping.errors import MappingLoadError
    from fhiradapter.mapping.loader import load_mapping
    path = write_mapping("""\
fhiradapter-mapping: 1
id: t
version: 1
agency: a
timezone: America/New_York
sources: {members: {file: m.csv}}
resources:
  - name: p
    source: members
    key: {$col: id}
    template:
      resourceType: Patient
      gender: {$colum: sex}
""", header="")
    try:
        load_mapping(path)
    except MappingLoadError as exc:
        text = str(exc)
    else:
        raise AssertionError("loaded")
    assert "unknown directive '$colum'" in text and all(name in text for name in NAMES)
