#!/usr/bin/env python3
"""Differential harness: run the validator, the mapper and the program rules over a fixed, seeded
corpus and digest everything they print and write, so a refactor that changes any output is seen.

    python tools/differential.py              # compare with tests/differential/digest.json (exit 1 if changed)
    python tools/differential.py --accept     # the change is intended: write the new digest
    python tools/differential.py --dump DIR   # also write each part's full text to DIR/{part}.txt (to diff)

The corpus (all of it derived from files in the repository, nothing random at run time):
  run.{program}       `fhiradapter run --program all examples/`: every file written, per program
  run.console         that command's standard output, standard error and exit code
  map.casemgmt-json   `fhiradapter map` of the nested-JSON export: files, console, exit code
  validate.examples   the package examples and a sample of the mapped resources, values hidden and shown
  validate.mutated    seeded mutations of those resources, each validated alone, values hidden and shown
  validate.bundles    the mutated resources as entries of Bundles (Bundle checks and program rules)
  validate.cli        `fhiradapter validate` on mapped NDJSON and Bundles (text, json, junit)
  rules.records       the program rules over every mapped member record (Bundles), plain and with as-of,
                      recipient and purpose set
  rules.mutated       the rules over seeded mutations of those member records
  rules.cli           `fhiradapter rules check` on mapped NDJSON and Bundles (text, json)

Each part's digest is a SHA-256 of its text plus counts (lines, issues by severity), so a mismatch
names the part that changed. Runs in about a minute on two cores.
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DIGEST = ROOT / "tests" / "differential" / "digest.json"
SEED = 20261203
PROGRAMS = ("mt-cmp", "mt-imr", "dc-cs", "ma-csp", "pa-tcm")
SAMPLE_PER_TYPE = 12          # mapped resources per program and resource type in the validate corpus
MUTATIONS_PER_RESOURCE = 3    # mutated copies of each corpus resource
RECORD_MUTATIONS = 2          # mutated copies of each member record
ACCEPT = "python tools/differential.py --accept"


class Part:
    """The lines one part of the corpus produced, plus counts that say what changed."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.counts: Counter[str] = Counter()

    def add(self, line: str) -> None:
        self.lines.append(line)

    def add_issues(self, issues: list[Any]) -> None:
        from fhiradapter.validator.report import text_line
        for issue in issues:
            self.counts[f"issues.{issue.severity}"] += 1
            self.lines.append(text_line(issue))
            self.lines.append(json.dumps(issue.to_fhir(), sort_keys=True, ensure_ascii=False))

    def digest(self) -> dict[str, Any]:
        text = "\n".join(self.lines).encode("utf-8")
        return {"sha256": hashlib.sha256(text).hexdigest(), "lines": len(self.lines),
                **dict(sorted(self.counts.items()))}


# -- running the CLI -------------------------------------------------------------------------------

def cli(args: list[str], tmp: Path) -> tuple[int, str, str]:
    """Run `fhiradapter ARGS` in a child process; output with the temporary folder's path replaced."""
    env = dict(os.environ, PYTHONHASHSEED="0")
    env.pop("FHIRADAPTER_DEBUG", None)   # the one-line internal-error message, as users see it
    done = subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    return done.returncode, done.stdout.replace(str(tmp), "<TMP>"), done.stderr.replace(str(tmp), "<TMP>")


def console(part: Part, rc: int, out: str, err: str) -> None:
    part.add(f"exit {rc}")
    part.lines += ["stdout:", *out.splitlines(), "stderr:", *err.splitlines()]
    part.counts["exit"] = rc


def files(part: Part, folder: Path) -> None:
    """Every file under folder: its relative path and the SHA-256 of its bytes."""
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        part.add(f"{path.relative_to(folder).as_posix()} {len(data)} {hashlib.sha256(data).hexdigest()}")
        part.counts["files"] += 1


def read_ndjson(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# -- seeded mutations ----------------------------------------------------------------------------

REPLACEMENTS: list[Any] = ["", " ", "x", "unknown-code", "2024-02-30", "2026-13-01T10:00:00Z", "urn:uuid:x",
                           "#missing", "Patient/does-not-exist", 0, -1, 3.5, True, None, [], {}, [{}],
                           {"reference": "Practitioner/nope"}, {"coding": [{"system": "urn:x", "code": "y"}]}]
ADDED_KEYS = ["zzz", "_status", "valueQuantity", "contained", "modifierExtension", "text", "implicitRules"]


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from paths(value, prefix + (index,))


def shift_date(value: str, rng: random.Random) -> str:
    """A date/dateTime string moved by a few days (keeps its format), or the value unchanged."""
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return value
    return (day.fromordinal(day.toordinal() + rng.choice((-40, -8, -2, -1, 1, 3, 15, 90)))).isoformat() + value[10:]


def mutate(resource: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """1-3 seeded edits somewhere in a copy of resource: delete, replace, wrap, unwrap, add, shift a date."""
    res = copy.deepcopy(resource)
    for _ in range(rng.randint(1, 3)):
        candidates = [p for p in paths(res) if p and p[0] != "resourceType"]
        if not candidates:
            break
        where = rng.choice(candidates)
        parent: Any = res
        for step in where[:-1]:
            parent = parent[step]
        key = where[-1]
        action = rng.choice(("delete", "replace", "wrap", "unwrap", "add", "date", "date"))
        value = parent[key]
        if action == "delete":
            del parent[key]
        elif action == "replace":
            parent[key] = copy.deepcopy(rng.choice(REPLACEMENTS))
        elif action == "wrap":
            parent[key] = [value]
        elif action == "unwrap" and isinstance(value, list) and value:
            parent[key] = value[0]
        elif action == "add" and isinstance(parent, dict):
            parent[rng.choice(ADDED_KEYS)] = copy.deepcopy(rng.choice(REPLACEMENTS))
        elif action == "date" and isinstance(value, str):
            parent[key] = shift_date(value, rng)
    return res


def mutate_record(entries: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    """A member record (Bundle entries) with one resource dropped, dates shifted or codes changed."""
    entries = copy.deepcopy(entries)
    for _ in range(rng.randint(1, 3)):
        if not entries:
            break
        action = rng.choice(("drop", "mutate", "date", "date", "status"))
        index = rng.randrange(len(entries))
        res = entries[index].get("resource")
        if not isinstance(res, dict):
            continue
        if action == "drop" and len(entries) > 1:
            del entries[index]
        elif action == "mutate":
            entries[index]["resource"] = mutate(res, rng)
        elif action == "status" and "status" in res:
            res["status"] = rng.choice(("cancelled", "entered-in-error", "draft", "revoked", "finished"))
        else:
            dated = [p for p in paths(res) if p and isinstance(_get(res, p), str) and len(_get(res, p)) >= 10
                     and _get(res, p)[4:5] == "-" and _get(res, p)[:4].isdigit()]
            for p in rng.sample(dated, min(len(dated), 2)):
                _set(res, p, shift_date(_get(res, p), rng))
    return entries


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        node = node[step]
    return node


def _set(node: Any, path: tuple[Any, ...], value: Any) -> None:
    _get(node, path[:-1])[path[-1]] = value


# -- the parts ---------------------------------------------------------------------------------------

def run_parts(tmp: Path, parts: dict[str, Part]) -> Path:
    out = tmp / "run"
    rc, stdout, stderr = cli(["run", "--program", "all", "examples/", "--out", str(out)], tmp)
    console(parts.setdefault("run.console", Part()), rc, stdout, stderr)
    for program in PROGRAMS:
        files(parts.setdefault(f"run.{program}", Part()), out / program)
    mapped = tmp / "map"
    rc, stdout, stderr = cli(["map", "--mapping", "mappings/casemgmt-json-mt-cmp.yaml",
                              "examples/casemgmt-json", "--out", str(mapped)], tmp)
    part = parts.setdefault("map.casemgmt-json", Part())
    console(part, rc, stdout, stderr)
    files(part, mapped)
    return out


def corpus(out: Path) -> list[tuple[str, str | None, dict[str, Any]]]:
    """(label, program, resource): the package examples, then a fixed sample of mapped resources."""
    items: list[tuple[str, str | None, dict[str, Any]]] = []
    for path in sorted((ROOT / "profiles" / "examples").glob("*.json")):
        items.append((f"examples/{path.name}", None, json.loads(path.read_text(encoding="utf-8"))))
    for program in PROGRAMS:
        for path in sorted((out / program / "ndjson").glob("*.ndjson")):
            rows = read_ndjson(path)
            step = max(1, len(rows) // SAMPLE_PER_TYPE)
            for line in range(0, len(rows), step)[:SAMPLE_PER_TYPE]:
                items.append((f"{program}/{path.name}:{line + 1}", program, rows[line]))
    return items


def validate_parts(out: Path, parts: dict[str, Part]) -> None:
    from fhiradapter.validator.engine import Validator
    hidden = Validator(show_values=False, timezone="America/Denver")
    shown = Validator(show_values=True, must_support=True, timezone="America/New_York")
    items = corpus(out)
    rng = random.Random(SEED)
    mutated = [(f"{label}~{n}", program, mutate(res, rng))
               for label, program, res in items for n in range(MUTATIONS_PER_RESOURCE)]
    for name, chosen in (("validate.examples", items), ("validate.mutated", mutated)):
        part = parts.setdefault(name, Part())
        for label, program, res in chosen:
            part.add(f"== {label}")
            part.counts["resources"] += 1
            part.add_issues(hidden.validate_resource(res, source=label))
            part.add("-- show_values, must_support, program")
            part.add_issues(shown.validate_resource(res, source=label, program=program))
    part = parts.setdefault("validate.bundles", Part())
    for start in range(0, len(mutated), 7):
        chunk = mutated[start:start + 7]
        bundle = {"resourceType": "Bundle", "id": f"b{start}", "type": "collection",
                  "entry": [{"fullUrl": f"urn:uuid:00000000-0000-4000-8000-{i:012d}", "resource": res}
                            for i, (_, _, res) in enumerate(chunk)]}
        part.add(f"== bundle {start} ({', '.join(label for label, _, _ in chunk)})")
        part.counts["bundles"] += 1
        part.add_issues(hidden.validate_bundle(bundle, source=f"b{start}"))
        part.add("-- show_values, program")
        part.add_issues(shown.validate_bundle(bundle, source=f"b{start}", program=chunk[0][1]))


def member_records(out: Path) -> list[tuple[str, str, list[dict[str, Any]]]]:
    records = []
    for program in PROGRAMS:
        for path in sorted((out / program / "bundles").glob("*.json")):
            bundle = json.loads(path.read_text(encoding="utf-8"))
            records.append((f"{program}/{path.name}", program, bundle.get("entry") or []))
    return records


def rules_parts(out: Path, parts: dict[str, Part]) -> None:
    from fhiradapter.rules import RuleConfig, run_rules
    zones = {"mt-cmp": "America/Denver", "mt-imr": "America/Denver"}
    plain = {p: RuleConfig(timezone=zones.get(p, "America/New_York")) for p in PROGRAMS}
    released = {p: RuleConfig(timezone=zones.get(p, "America/New_York"), as_of=date(2026, 3, 15),
                              recipient="Organization/payer", purpose="HPAYMT", data_from=date(2026, 1, 5))
                for p in PROGRAMS}
    records = member_records(out)
    part = parts.setdefault("rules.records", Part())
    for label, program, entries in records:
        members = [e["resource"] for e in entries if isinstance(e, dict) and isinstance(e.get("resource"), dict)]
        part.add(f"== {label}")
        part.counts["records"] += 1
        part.add_issues(run_rules(members, config=plain[program]))
        part.add("-- as_of, recipient, purpose, data_from; program given")
        part.add_issues(run_rules(members, programs={program}, config=released[program]))
    rng = random.Random(SEED + 1)
    part = parts.setdefault("rules.mutated", Part())
    for label, program, entries in records:
        for n in range(RECORD_MUTATIONS):
            members = [e["resource"] for e in mutate_record(entries, rng)
                       if isinstance(e, dict) and isinstance(e.get("resource"), dict)]
            part.add(f"== {label}~{n}")
            part.counts["records"] += 1
            part.add_issues(run_rules(members, config=plain[program]))


def cli_parts(out: Path, tmp: Path, parts: dict[str, Part]) -> None:
    part = parts.setdefault("validate.cli", Part())
    for args in (["validate", str(out / "mt-imr" / "ndjson")],
                 ["validate", str(out / "pa-tcm" / "ndjson"), "--format", "json", "--show-values"],
                 ["validate", str(out / "dc-cs" / "bundles"), "--program", "dc-cs", "--format", "junit"],
                 ["validate", str(out / "ma-csp" / "bundles"), "--no-rules", "--min-severity", "warning"]):
        part.add("$ fhiradapter " + " ".join(args).replace(str(tmp), "<TMP>"))
        console(part, *cli(args, tmp))
    part = parts.setdefault("rules.cli", Part())
    for args in (["rules", "check", str(out / "mt-cmp" / "ndjson")],
                 ["rules", "check", str(out / "ma-csp" / "bundles"), "--timezone", "America/New_York",
                  "--as-of", "2026-03-01", "--recipient", "Organization/payer", "--format", "json"],
                 ["rules", "check", str(out / "dc-cs" / "ndjson"), "--program", "dc-cs", "--data-from", "none"]):
        part.add("$ fhiradapter " + " ".join(args).replace(str(tmp), "<TMP>"))
        console(part, *cli(args, tmp))


def compute(dump: Path | None = None, progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    parts: dict[str, Part] = {}
    with tempfile.TemporaryDirectory(prefix="fhiradapter-diff-") as name:
        tmp = Path(name)
        progress("run + map")
        out = run_parts(tmp, parts)
        progress("validate")
        validate_parts(out, parts)
        progress("rules")
        rules_parts(out, parts)
        progress("validate/rules commands")
        cli_parts(out, tmp, parts)
    if dump is not None:
        dump.mkdir(parents=True, exist_ok=True)
        for name, part in parts.items():
            (dump / f"{name}.txt").write_text("\n".join(part.lines) + "\n", encoding="utf-8")
    return {"corpus": {"seed": SEED, "sample_per_type": SAMPLE_PER_TYPE, "mutations_per_resource":
                       MUTATIONS_PER_RESOURCE, "record_mutations": RECORD_MUTATIONS},
            "parts": {name: parts[name].digest() for name in sorted(parts)}}


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """One line per changed, new or missing part (with the counts that moved)."""
    lines = []
    if old.get("corpus") != new["corpus"]:
        lines.append(f"corpus settings: {old.get('corpus')} -> {new['corpus']}")
    before, after = old.get("parts", {}), new["parts"]
    for name in sorted(set(before) | set(after)):
        a, b = before.get(name), after.get(name)
        if a == b:
            continue
        if a is None or b is None:
            lines.append(f"{name}: {'new part' if a is None else 'part gone'}")
            continue
        moved = [f"{k} {a.get(k)} -> {b.get(k)}" for k in sorted(set(a) | set(b))
                 if k != "sha256" and a.get(k) != b.get(k)]
        lines.append(f"{name}: output changed" + (f" ({'; '.join(moved)})" if moved else " (same counts)"))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accept", action="store_true", help=f"write the new digest to {DIGEST.relative_to(ROOT)}")
    parser.add_argument("--dump", type=Path, help="write each part's full text to DIR/{part}.txt")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if os.environ.get("PYTHONHASHSEED") != "0":   # the child processes get it too; same runs, same order
        os.environ["PYTHONHASHSEED"] = "0"
        return subprocess.call([sys.executable, *sys.argv])
    say = (lambda _: None) if args.quiet else (lambda m: print(f"differential: {m}", file=sys.stderr))
    new = compute(args.dump, say)
    if args.accept:
        DIGEST.parent.mkdir(parents=True, exist_ok=True)
        DIGEST.write_text(json.dumps(new, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {DIGEST.relative_to(ROOT)} ({len(new['parts'])} parts)")
        return 0
    old = json.loads(DIGEST.read_text(encoding="utf-8")) if DIGEST.is_file() else {}
    changed = differences(old, new)
    if not changed:
        print(f"differential digest unchanged ({len(new['parts'])} parts)")
        return 0
    print("differential digest CHANGED:")
    for line in changed:
        print(f"  {line}")
    print("If the change is intended, accept it with:\n"
          f"  {ACCEPT}\n"
          "(see what changed: python tools/differential.py --dump DIR, before and after, then diff)")
    return 1


if __name__ == "__main__":
    sys.exit(main())
