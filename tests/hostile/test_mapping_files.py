"""Hostile mapping files through `mapping check` and `map`: alias bombs, deep nesting, devices as
include or lookup, catastrophic regexes, random mutations of a shipped mapping. Each ends quickly
with exit 0/1/2 and a message, never a hang, a crash or exit 3."""
from __future__ import annotations

import random
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from .support import ALLOWED_EXITS, check_summary, invoke

REPO = Path(__file__).parents[2]
FIXTURE = REPO / "tests" / "mapping" / "fixtures" / "example"

BILLION_LAUGHS = """\
fhiradapter-mapping: 1
id: lol
version: 1.0.0
agency: lol
timezone: America/Denver
vars:
  a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
  d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
  e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
  f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
  g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
  h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
  i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
sources:
  members: {file: members.csv}
resources:
  - name: patient
    source: members
    key: {$col: member_id}
    template: {resourceType: Patient, extension: [{url: "https://x.org", valueString: {$var: i}}]}
"""


def _fixture_mapping(tmp_path: Path) -> Path:
    folder = tmp_path / "mapping"
    shutil.copytree(FIXTURE, folder)
    return folder / "mapping.yaml"


def _check(path: Path, *extra: str) -> Any:
    start = time.monotonic()
    result = invoke(["mapping", "check", str(path), *extra])
    assert time.monotonic() - start < 30, "mapping check took too long"
    assert result.code in ALLOWED_EXITS, result.text
    assert "internal error" not in result.text and "Traceback" not in result.text
    return result


def test_billion_laughs_is_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "lol.yaml"
    path.write_text(BILLION_LAUGHS)
    result = _check(path)
    assert result.code == 2 and "expands to more than" in result.text
    result = invoke(["map", "--mapping", str(path), str(FIXTURE / "input"), "--out", str(tmp_path / "o")])
    assert result.code == 2 and "expands to more than" in result.text


@pytest.mark.parametrize("doc", [
    "a: " + "[" * 100_000 + "]" * 100_000,
    "a: " + "{b: " * 5000 + "1" + "}" * 5000,
    "\n".join(" " * i + "k:" for i in range(2000)) + " 1",
    "a: &x [*x]",
    "a: " + "9" * 50_000,
    "\ud800: x".encode("utf-8", "surrogatepass").decode("latin-1"),
])
def test_deep_or_odd_yaml_is_a_load_error(tmp_path: Path, doc: str) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(doc, encoding="utf-8", errors="surrogatepass")
    assert _check(path).code == 2


def test_a_device_as_mapping_include_or_lookup_is_bounded(tmp_path: Path) -> None:
    path = _fixture_mapping(tmp_path)
    text = path.read_text()
    assert _check(Path("/dev/zero")).code == 2
    with_include = text.replace("vars:", "include: [/dev/zero]\nvars:", 1)
    path.write_text(with_include)
    assert _check(path).code == 2
    with_lookup = text.replace("lookups:", "lookups:\n  devzero: {csv: /dev/zero, key: a, value: b}", 1)
    path.write_text(with_lookup)
    result = _check(path)
    assert result.code == 2 and "larger than" in result.text
    with_cm = text.replace("lookups:", "lookups:\n  devzero: {conceptmap: /dev/zero}", 1)
    path.write_text(with_cm)
    assert _check(path).code == 2


def test_a_catastrophic_regex_costs_its_rows_not_the_run(tmp_path: Path) -> None:
    path = _fixture_mapping(tmp_path)
    text = path.read_text()
    assert "name: patient\n    source: members\n" in text
    path.write_text(text.replace("name: patient\n    source: members\n",
                                 "name: patient\n    source: members\n"
                                 "    when: {not: {matches: [{$col: last_name}, '^(a|a)+$']}}\n", 1))
    folder = tmp_path / "in"
    shutil.copytree(FIXTURE / "input", folder)
    members = (folder / "members.csv").read_text().splitlines()
    members.append("M900,Evil," + "a" * 60 + "!,07/02/1984,F,")
    (folder / "members.csv").write_text("\n".join(members) + "\n")
    start = time.monotonic()
    result = invoke(["map", "--mapping", str(path), str(folder), "--out", str(tmp_path / "out")])
    assert time.monotonic() - start < 30
    assert result.code == 1, result.text
    assert f"members.csv:{len(members)}" in result.text and "took over" in result.text
    check_summary(tmp_path / "out")


MUTATIONS = ["drop", "null", "int", "list", "string", "deep", "huge", "regex", "encoding"]


def _mutate(node: Any, rng: random.Random) -> Any:
    """One random change somewhere in a loaded mapping document."""
    if isinstance(node, dict) and node and rng.random() < 0.8:
        key = rng.choice(sorted(node, key=str))
        copy = dict(node)
        copy[key] = _mutate(node[key], rng)
        if rng.random() < 0.1:
            del copy[key]
        return copy
    if isinstance(node, list) and node and rng.random() < 0.8:
        i = rng.randrange(len(node))
        return node[:i] + [_mutate(node[i], rng)] + node[i + 1:]
    kind = rng.choice(MUTATIONS)
    return {"drop": None, "null": None, "int": 10 ** 30, "list": [node, node], "string": "\x00\u202e",
            "deep": [[[[[[[[[[[[[[[[node]]]]]]]]]]]]]]]], "huge": "x" * 100_000,
            "regex": {"matches": [{"$col": "member_id"}, "(a|a)+$"]}, "encoding": "hex"}[kind]


@pytest.mark.parametrize("seed", range(6))
def test_random_mutations_of_a_shipped_mapping(tmp_path: Path, seed: int) -> None:
    source = _fixture_mapping(tmp_path)
    doc = yaml.safe_load(source.read_text())
    rng = random.Random(seed)
    for i in range(25):
        mutated = _mutate(doc, rng)
        path = source.parent / f"m{i}.yaml"
        path.write_text(yaml.safe_dump(mutated, allow_unicode=True))
        result = _check(path, "--input", str(FIXTURE / "input"))
        if result.code == 0 and i % 5 == 0:   # loadable: it must also map without a crash
            mapped = invoke(["map", "--mapping", str(path), str(FIXTURE / "input"),
                             "--out", str(tmp_path / f"out{i}")])
            assert mapped.code in ALLOWED_EXITS, mapped.text
