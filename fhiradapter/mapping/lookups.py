"""Lookup tables: inline maps, CSV files and FHIR ConceptMaps -> {agency code: FHIR value}.

Loading problems are returned as messages (the loader turns them into LoadProblems naming the
mapping file and YAML path); a duplicate key is a problem, never a silent overwrite.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fhiradapter.mapping.sources import encoding_problem, read_limited
from fhiradapter.mapping.values import as_text

LOOKUP_FILE_LIMIT = 64 * 1024 * 1024   # a code table file (CSV or ConceptMap); read whole, so bounded

_NOT_A_MATCH = frozenset({"unmatched", "disjoint"})


@dataclass
class Lookup:
    name: str
    table: dict[str, Any]
    ignore_case: bool = False

    def key(self, value: Any) -> Any:
        text = as_text(value)
        if isinstance(text, str) and self.ignore_case:
            return text.lower()
        return text


def _put(table: dict[str, Any], key: str, value: Any, ignore_case: bool, problems: list[str], where: str) -> None:
    key = key.strip()
    if ignore_case:
        key = key.lower()
    if key in table:
        problems.append(f"duplicate key '{key}' in {where}")
        return
    table[key] = value


def load_lookup(name: str, spec: dict[str, Any], base_dir: Path) -> tuple[Lookup, list[str]]:
    ignore_case = bool(spec.get("ignore_case", False))
    table: dict[str, Any] = {}
    problems: list[str] = []
    if "map" in spec:
        for key, value in spec["map"].items():
            if key is None:
                problems.append("a key is null (quote it: '~' or 'null' are YAML nulls)")
                continue
            if value is None:
                problems.append(f"key '{key}' has no value (to drop an unknown code, use default: null)")
                continue
            _put(table, as_text(key) if not isinstance(key, str) else key, value, ignore_case, problems, "map")
    elif "csv" in spec:
        path = (base_dir / spec["csv"])
        try:
            encoding = spec.get("encoding", "utf-8")
            bad_encoding = encoding_problem(encoding)
            if bad_encoding is not None:
                problems.append(f"{spec['csv']}: {bad_encoding}")
                return Lookup(name, table, ignore_case), problems
            encoding = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
            text = read_limited(path, LOOKUP_FILE_LIMIT, f"lookup file {spec['csv']}").decode(encoding)
            with io.StringIO(text, newline="") as handle:
                reader = csv.DictReader(handle, delimiter=spec.get("delimiter", ","))
                columns = [c.strip() for c in (reader.fieldnames or [])]
                reader.fieldnames = columns
                wanted = [spec["key"]] + ([spec["value"]] if "value" in spec else list(spec.get("values", [])))
                missing = [c for c in wanted if c not in columns]
                if missing:
                    problems.append(f"{spec['csv']}: column(s) {', '.join(missing)} not in the header")
                    return Lookup(name, table, ignore_case), problems
                for row in reader:
                    key = (row.get(spec["key"]) or "").strip()
                    if not key:
                        continue
                    if "value" in spec:
                        value = (row.get(spec["value"]) or "").strip()
                        if not value:
                            problems.append(f"{spec['csv']}:{reader.line_num}: empty '{spec['value']}'")
                            continue
                    else:
                        value = {c: row[c].strip() for c in spec["values"] if (row.get(c) or "").strip()}
                    _put(table, key, value, ignore_case, problems, f"{spec['csv']}:{reader.line_num}")
        except OSError as exc:
            problems.append(f"cannot read lookup file {spec['csv']} ({exc.strerror})")
        except (UnicodeError, csv.Error, LookupError) as exc:
            problems.append(f"cannot read lookup file {spec['csv']} ({exc})")
        except ValueError as exc:   # over the size limit
            problems.append(str(exc))
    elif "conceptmap" in spec:
        path = base_dir / spec["conceptmap"]
        output = spec.get("output", "code")
        try:
            doc = json.loads(read_limited(path, LOOKUP_FILE_LIMIT, f"ConceptMap {spec['conceptmap']}").decode("utf-8"))
        except OSError as exc:
            problems.append(f"cannot read ConceptMap {spec['conceptmap']} ({exc.strerror})")
            return Lookup(name, table, ignore_case), problems
        except RecursionError:
            problems.append(f"ConceptMap {spec['conceptmap']} is nested too deeply")
            return Lookup(name, table, ignore_case), problems
        except ValueError as exc:   # not JSON, not UTF-8, or over the size limit
            problems.append(f"ConceptMap {spec['conceptmap']} cannot be read ({exc})")
            return Lookup(name, table, ignore_case), problems
        if not isinstance(doc, dict) or doc.get("resourceType") != "ConceptMap":
            problems.append(f"{spec['conceptmap']} is not a FHIR ConceptMap")
            return Lookup(name, table, ignore_case), problems
        try:
            for group in doc.get("group") or []:
                system = group.get("target")
                for element in group.get("element") or []:
                    code = element.get("code")
                    target = next((t for t in element.get("target") or []
                                   if t.get("equivalence") not in _NOT_A_MATCH and t.get("code")), None)
                    if not code or target is None:
                        continue  # no usable target: the code is not in the table (strict)
                    if output == "coding":
                        value = {"system": system, "code": target["code"]} if system else {"code": target["code"]}
                        if target.get("display"):
                            value["display"] = target["display"]
                    else:
                        value = target["code"]
                    _put(table, code, value, ignore_case, problems, spec["conceptmap"])
        except (AttributeError, TypeError):   # a group, element or target that is no JSON object
            problems.append(f"{spec['conceptmap']}: group/element/target entries must be JSON objects")
    return Lookup(name, table, ignore_case), problems
