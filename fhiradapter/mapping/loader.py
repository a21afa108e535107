"""Load a mapping file: YAML, includes, JSON Schema, lookups, then compile every template.

Every problem is collected (file + YAML path + message) and raised together as MappingLoadError,
so `mapping check` shows all of them at once.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any, Callable

import jsonschema
from jsonschema.exceptions import best_match

from fhiradapter.ids import identifier_system as default_identifier_system, mapped_name_prefix
from fhiradapter.part2 import may_be_sud
from fhiradapter.mapping.compiler import (
    Compiled, Ctx, Env, TemplateTarget, Use, compile_body, compile_condition, compile_value, generate_fast,
    key_function, resource_reference_shape,
)
from fhiradapter.mapping.directives import option_table
from fhiradapter.mapping.fhircheck import check_template
from fhiradapter.mapping.errors import LoadProblem, MappingLoadError
from fhiradapter.mapping.lookups import Lookup, load_lookup
from fhiradapter.mapping.orphans import reference_reader
from fhiradapter.mapping.sources import encoding_problem, read_limited
from fhiradapter.mapping.timefmt import TimeValueError, zone
from fhiradapter.mapping.yamlload import YamlLimitError, load_yaml

SCHEMA_FILE = "mapping-v1.schema.json"
MAPPING_FILE_LIMIT = 4 * 1024 * 1024   # a mapping or fragment (shipped ones: < 20 KiB)
_TOP_ONLY = ("id", "version", "agency", "timezone", "program", "tests", "title", "description")


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    text = importlib_resources.files("fhiradapter.mapping").joinpath("schema", SCHEMA_FILE).read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    cls = jsonschema.validators.validator_for(schema())
    return cls(schema())


@dataclass
class Template:
    name: str
    source: str | None          # None: a constant resource (made once per run, from no row)
    resource_type: str
    kind: str
    identifier_system: str
    id_prefix: str   # the rows' own ids: uuid5_text(id_prefix + key) (fhiradapter.ids.mapped_id)
    key: Callable[[Ctx], str | None]
    key_columns: tuple[str, ...]
    when: Callable[[Ctx], bool] | None
    member: Compiled | None
    body: Compiled
    profiles: tuple[str, ...] = ()
    fast: Callable[[Ctx], Any] | None = None   # generated fast path of body (falls back to body.fn)
    distinct: bool = False     # one resource per distinct key: a key already mapped adds nothing
    origin: tuple[str, int] | None = None   # a constant resource's (mapping file name, line): its meta.source
    refs: Any = True   # where its resources can hold references (compiler.reference_shape; True: anywhere)
    part2: bool = True   # its resources can be SUD data (part2.may_be_sud): marked, with the notice
    # its resources' references: orphans.template_references(refs, ·) generated as one function
    read_refs: Callable[[dict[str, Any]], list[tuple[str, str]]] | None = None


@dataclass
class Mapping:
    path: Path
    id: str
    version: str
    agency: str
    timezone: str
    program: str | None
    title: str | None
    vars: dict[str, Any]
    sources: dict[str, dict[str, Any]]
    lookups: dict[str, Lookup]
    templates: list[Template]
    tests: list[dict[str, Any]]
    uses: list[Use] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)   # this file and its fragments
    skips: dict[str, tuple[tuple[str, Callable[[Ctx], bool]], ...]] = field(default_factory=dict)  # source -> (reason, test)
    source_where: dict[str, tuple[str, str, str]] = field(default_factory=dict)   # source -> (file label, yaml path, text)

    @property
    def constants(self) -> list[Template]:
        """Resources made once per run from the mapping itself (templates without source:)."""
        return [t for t in self.templates if t.source is None]

    def templates_of(self, source: str) -> list[Template]:
        return [t for t in self.templates if t.source == source]

    @property
    def mapped_sources(self) -> list[str]:
        """Sources mapped row by row, in declaration order."""
        return [name for name, spec in self.sources.items() if not spec.get("index")]

    @property
    def related_sources(self) -> list[str]:
        return [name for name, spec in self.sources.items() if spec.get("index")]


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _yaml_path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


_OPTIONS = option_table()   # directive -> (allowed options, required), from the one table


def _directive_problems(value: Any, where: str) -> list[tuple[str, str]]:
    """Readable problems of the directives inside a template value (the schema's anyOf messages are not)."""
    found: list[tuple[str, str]] = []
    if isinstance(value, list):
        for i, item in enumerate(value):
            found += _directive_problems(item, f"{where}[{i}]")
        return found
    if not isinstance(value, dict):
        return found
    keys = [k for k in value if isinstance(k, str) and k.startswith("$")]
    if not keys:
        for key, item in value.items():
            found += _directive_problems(item, f"{where}.{key}")
        return found
    if len(keys) > 1:
        return [(where, f"a directive map holds exactly one $-key, found {', '.join(keys)}")]
    name = keys[0]
    if name not in _OPTIONS:
        return [(where, f"unknown directive '{name}' (known: {', '.join(_OPTIONS)})")]
    allowed, required = _OPTIONS[name]
    for option in value:
        if option != name and option not in allowed:
            found.append((where, f"unknown option '{option}' for {name}"
                                 + (f" (allowed: {', '.join(sorted(allowed))})" if allowed else " (it takes none)")))
    for option in sorted(required - set(value)):
        found.append((where, f"{name} needs {option}:"))
    if name == "$lookup" and "col" not in value and "from" not in value:
        found.append((where, "$lookup needs col: or from:"))
    if name == "$lookup" and "col" in value and "from" in value:
        found.append((where, "$lookup takes col: or from:, not both"))
    for option, item in value.items():
        if option in ("$const",):
            continue
        found += _directive_problems(item, f"{where}.{option}")
    return found


# texts of mapping files that passed the schema in this process (the check is ~40 % of a load)
_SCHEMA_VALID_TEXTS: set[str] = set()


def _value_at(doc: Any, path: list[Any]) -> Any:
    for part in path:
        try:
            doc = doc[part]
        except (KeyError, IndexError, TypeError):
            return None
    return doc


def _schema_problems(doc: Any, file: str) -> list[LoadProblem]:
    problems = []
    explained: set[tuple[str, str]] = set()
    for error in sorted(_validator().iter_errors(doc), key=lambda e: list(map(str, e.absolute_path))):
        path = list(error.absolute_path)
        if path[:1] == ["resources"]:   # templates, keys, members, conditions: directives explained
            # the value at the error's path (for a bad key, jsonschema's error.instance is only the key)
            readable = _directive_problems(_value_at(doc, path), _yaml_path(path))
            if readable:
                for where, message in readable:
                    if (where, message) not in explained:
                        explained.add((where, message))
                        problems.append(LoadProblem(file, where, message))
                continue
        detail = error
        if error.context:
            detail = best_match(error.context) or error
        where = _yaml_path(detail.absolute_path) or _yaml_path(error.absolute_path)
        message = detail.message
        if len(message) > 300:
            message = message[:300] + "..."
        problems.append(LoadProblem(file, where, message))
    return problems


@dataclass
class _Part:
    path: Path
    doc: dict[str, Any]
    text: str = ""


def _read_tree(path: Path, problems: list[LoadProblem], seen: tuple[Path, ...] = (),
               texts: dict[str, str] | None = None) -> list[_Part]:
    """This file's fragments (depth first, in include order) then the file itself. `texts` collects
    each file's text by its label (problems get their line from it)."""
    file = _display(path)
    resolved = path.resolve()
    if resolved in seen:
        problems.append(LoadProblem(file, "include", "include cycle: " + " -> ".join(_display(p) for p in seen + (resolved,))))
        return []
    try:
        text = read_limited(path, MAPPING_FILE_LIMIT, "the mapping file").decode("utf-8")
    except OSError as exc:
        problems.append(LoadProblem(file, "", f"cannot read mapping file ({exc.strerror or exc})"))
        return []
    except UnicodeDecodeError:
        problems.append(LoadProblem(file, "", "mapping file is not UTF-8 text"))
        return []
    except ValueError as exc:   # larger than the limit: a device, or not a mapping
        problems.append(LoadProblem(file, "", str(exc)))
        return []
    if texts is not None:
        texts[file] = text
    try:
        doc = load_yaml(text)
    except Exception as exc:  # yaml.YAMLError and friends: report the position, not a traceback
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        if isinstance(exc, YamlLimitError):
            problems.append(LoadProblem(file, "", f"refused: {exc} (docs/limits.md)"))
        else:
            problems.append(LoadProblem(file, where, f"not valid YAML ({getattr(exc, 'problem', None) or exc})"))
        return []
    if not isinstance(doc, dict):
        problems.append(LoadProblem(file, "", "a mapping file is a YAML map (fhiradapter-mapping: 1, id: ...)"))
        return []
    if text not in _SCHEMA_VALID_TEXTS:   # a fragment shared by five mappings is checked once
        schema_problems = _schema_problems(doc, file)
        problems.extend(schema_problems)
        if schema_problems:
            return []
        if len(_SCHEMA_VALID_TEXTS) >= 64:
            _SCHEMA_VALID_TEXTS.clear()
        _SCHEMA_VALID_TEXTS.add(text)
    parts: list[_Part] = []
    for i, include in enumerate(doc.get("include") or []):
        child = path.parent / include
        sub: list[LoadProblem] = []
        child_parts = _read_tree(child, sub, seen + (resolved,), texts)
        problems.extend(sub)
        if child_parts and not child_parts[-1].doc.get("fragment"):
            problems.append(LoadProblem(file, f"include[{i}]", f"{include} is not a fragment (fragment: true)"))
        parts.extend(child_parts)
    parts.append(_Part(path, doc, text))
    return parts


def _located(problems: list[LoadProblem], texts: dict[str, str]) -> list[LoadProblem]:
    """The problems with the line of their YAML path (computed only here: on the way to an error)."""
    from fhiradapter.mapping.yamllines import line_of
    for problem in problems:
        text = texts.get(problem.file)
        if problem.line is None and problem.where and text is not None and not problem.where.startswith("line "):
            problem.line = line_of(text, problem.where)
    return problems


def load_mapping(path: str | Path) -> Mapping:
    """Load, check and compile a mapping file; MappingLoadError lists every problem."""
    path = Path(path)
    file = _display(path)
    problems: list[LoadProblem] = []
    texts: dict[str, str] = {}
    parts = _read_tree(path, problems, texts=texts)
    if problems or not parts:
        raise MappingLoadError(_located(problems, texts) or [LoadProblem(file, "", "nothing to load")])
    top = parts[-1].doc
    if top.get("fragment"):
        raise MappingLoadError([LoadProblem(file, "fragment", "a fragment cannot be used on its own; include it from a mapping")])

    # Merge: names are unique across the tree; vars of later (including) files win.
    vars_: dict[str, Any] = {}
    sources: dict[str, dict[str, Any]] = {}
    lookup_specs: dict[str, tuple[dict[str, Any], Path, str]] = {}
    resource_specs: list[tuple[dict[str, Any], str, str]] = []   # spec, file label, yaml path
    source_labels: dict[str, tuple[str, str]] = {}                # source -> (file label, yaml path)
    for part in parts:
        label = _display(part.path)
        vars_.update(part.doc.get("vars") or {})
        for name, spec in (part.doc.get("sources") or {}).items():
            if name in sources:
                problems.append(LoadProblem(label, f"sources.{name}", "source defined twice (in an include and here)"))
            sources[name] = dict(spec)
            source_labels[name] = (label, f"sources.{name}")
        for name, spec in (part.doc.get("lookups") or {}).items():
            if name in lookup_specs:
                problems.append(LoadProblem(label, f"lookups.{name}", "lookup defined twice (in an include and here)"))
            lookup_specs[name] = (spec, part.path.parent, label)
        for i, spec in enumerate(part.doc.get("resources") or []):
            resource_specs.append((spec, label, f"resources[{i}]"))

    try:
        zone(top["timezone"])
    except TimeValueError as exc:
        problems.append(LoadProblem(file, "timezone", str(exc)))

    lookups: dict[str, Lookup] = {}
    for name, (spec, base, label) in lookup_specs.items():
        lookup, messages = load_lookup(name, spec, base)
        lookups[name] = lookup
        problems.extend(LoadProblem(label, f"lookups.{name}", m) for m in messages)

    targets: dict[str, TemplateTarget] = {}
    for spec, label, where in resource_specs:
        name = spec["name"]
        if name in targets:
            problems.append(LoadProblem(label, f"{where}.name", f"resource template '{name}' defined twice"))
            continue
        key = spec["key"]
        targets[name] = TemplateTarget(spec["template"]["resourceType"], spec.get("kind", name),
                                       len(key) if isinstance(key, list) else 1)

    for name, spec in sources.items():
        if spec.get("format", "csv") != "csv" and spec.get("index"):
            pass  # an index on a JSON source groups by a top-level field; allowed
        if spec.get("format", "csv") == "csv" and "record_path" in spec:
            problems.append(LoadProblem(file, f"sources.{name}.record_path", "record_path applies to json/ndjson sources"))
        encoding_issue = encoding_problem(str(spec.get("encoding", "utf-8")))
        if encoding_issue is not None:
            problems.append(LoadProblem(file, f"sources.{name}.encoding", encoding_issue))

    uses: list[Use] = []
    templates: list[Template] = []
    agency = top["agency"]
    seen_names: set[str] = set()
    for spec, label, where in resource_specs:
        name = spec["name"]
        if name in seen_names:
            continue
        seen_names.add(name)
        # element names and shapes against R4 and the claimed profile (fhircheck.py)
        text_columns = sources.get(spec.get("source") or "", {}).get("format", "csv") == "csv"
        problems.extend(LoadProblem(label, w, m) for w, m in check_template(
            spec["template"], f"{where}.template", text_columns=text_columns))
        source = spec.get("source")
        compile_problems: list[tuple[str, str]] = []
        if source is None:   # a constant resource, made once per run from the mapping
            constant = _constant_template(spec, label, where, lookups, vars_, targets, sources, agency,
                                          top["timezone"], uses, problems, texts)
            if constant is not None:
                templates.append(constant)
            continue
        if source not in sources:
            problems.append(LoadProblem(label, f"{where}.source", f"source '{source}' is not defined"))
            continue
        if sources[source].get("index"):
            problems.append(LoadProblem(label, f"{where}.source",
                                        f"source '{source}' has index: (a related source); templates map only row sources"))
            continue
        resource_type = spec["template"]["resourceType"]
        env = Env(lookups=lookups, vars=vars_, targets=targets, sources=sources, agency=agency,
                  timezone=top["timezone"], template=name, source=source, problems=compile_problems, uses=uses)
        start = len(uses)
        key_fn, key_columns, _ = key_function(spec["key"], env, f"{where}.key", f"{resource_type}.id")
        del uses[start:]   # explain lists the key once, from key_columns
        when_fn = None
        if "when" in spec:
            start = len(uses)
            when_fn, when_columns = compile_condition(spec["when"], env, f"{where}.when", resource_type)
            del uses[start:]
            if when_columns:
                uses.append(Use(name, tuple(f"{source}.{c}" for c in when_columns), f"{resource_type} (which rows)", "when"))
        member = compile_value(spec["member"], env, f"{where}.member", f"{resource_type}(member)") if "member" in spec else None
        body = compile_body(spec["template"], env, f"{where}.template", resource_type)
        meta = spec["template"].get("meta")
        profiles = tuple(meta.get("profile") or ()) if isinstance(meta, dict) and isinstance(meta.get("profile"), list) else ()
        kind = spec.get("kind", name)
        templates.append(Template(
            name=name, source=source, resource_type=resource_type, kind=kind,
            identifier_system=spec.get("identifier_system") or default_identifier_system(agency, kind),
            id_prefix=mapped_name_prefix(agency, resource_type, kind), key=key_fn, key_columns=key_columns, when=when_fn, member=member, body=body,
            profiles=tuple(p for p in profiles if isinstance(p, str)),
            fast=generate_fast(body) if not compile_problems else None, distinct=bool(spec.get("distinct")),
            refs=(shape := resource_reference_shape(body)), read_refs=reference_reader(shape),
            part2=may_be_sud(resource_type, spec["template"])))
        problems.extend(LoadProblem(label, w, m) for w, m in compile_problems)

    for name, spec in sources.items():
        if spec.get("index"):
            continue
        if not any(t.source == name for t in templates) and not problems:
            problems.append(LoadProblem(file, f"sources.{name}", "no resource template maps this source "
                                        "(give it index: to use it from $each, or remove it)"))

    skips = _skips(sources, source_labels, lookups, vars_, targets, agency, top["timezone"], problems, uses)

    tests = []
    for i, test in enumerate(top.get("tests") or []):
        tests.append({"name": test["name"], "input": path.parent / test["input"],
                      "expect": path.parent / test["expect"], "where": f"tests[{i}]"})

    problems.extend(_undeclared_columns(sources, source_labels, uses, templates))
    if problems:
        raise MappingLoadError(_located(problems, texts), sources, {
            name: (label, where, texts.get(label, "")) for name, (label, where) in source_labels.items()})
    return Mapping(path=path, id=top["id"], version=str(top["version"]), agency=agency,
                   timezone=top["timezone"], program=top.get("program"), title=top.get("title"),
                   vars=vars_, sources=sources, lookups=lookups, templates=templates, tests=tests,
                   uses=uses, files=[p.path for p in parts], skips=skips,
                   source_where={name: (label, where, texts.get(label, "")) for name, (label, where) in source_labels.items()})


def _constant_template(spec: dict[str, Any], label: str, where: str, lookups: dict[str, Lookup],
                       vars_: dict[str, Any], targets: dict[str, TemplateTarget], sources: dict[str, dict[str, Any]],
                       agency: str, timezone: str, uses: list[Use], problems: list[LoadProblem],
                       texts: dict[str, str]) -> Template | None:
    """A template without source: its key and body are constants (no row to read them from)."""
    from fhiradapter.mapping.yamllines import line_of
    name = spec["name"]
    resource_type = spec["template"]["resourceType"]
    compile_problems: list[tuple[str, str]] = []
    env = Env(lookups=lookups, vars=vars_, targets=targets, sources=sources, agency=agency, timezone=timezone,
              template=name, source="", problems=compile_problems, uses=[])
    key_fn, key_columns, _ = key_function(spec["key"], env, f"{where}.key", f"{resource_type}.id")
    body = compile_body(spec["template"], env, f"{where}.template", resource_type)
    for option in ("when", "member", "distinct"):
        if option in spec:
            compile_problems.append((f"{where}.{option}", f"a constant resource (no source:) takes no {option}:"))
    if key_columns or body.columns:
        compile_problems.append((where, "a constant resource (no source:) cannot read columns "
                                 f"({', '.join(sorted(set(key_columns + body.columns)))}); give it a source:"))
    problems.extend(LoadProblem(label, w, m) for w, m in compile_problems)
    if compile_problems:
        return None
    kind = spec.get("kind", name)
    line = line_of(texts.get(label, ""), where) or 1
    meta = spec["template"].get("meta")
    profiles = tuple(meta.get("profile") or ()) if isinstance(meta, dict) and isinstance(meta.get("profile"), list) else ()
    return Template(
        name=name, source=None, resource_type=resource_type, kind=kind,
        identifier_system=spec.get("identifier_system") or default_identifier_system(agency, kind),
        id_prefix=mapped_name_prefix(agency, resource_type, kind), key=key_fn, key_columns=(), when=None,
        member=None, body=body, profiles=tuple(p for p in profiles if isinstance(p, str)),
        origin=(Path(label).name, line))


def _skips(sources: dict[str, dict[str, Any]], labels: dict[str, tuple[str, str]], lookups: dict[str, Lookup],
           vars_: dict[str, Any], targets: dict[str, TemplateTarget], agency: str, timezone: str,
           problems: list[LoadProblem], uses: list[Use]) -> dict[str, tuple[tuple[str, Callable[[Ctx], bool]], ...]]:
    """Each source's `skip:` conditions, compiled: rows left out on purpose, counted per reason."""
    found: dict[str, tuple[tuple[str, Callable[[Ctx], bool]], ...]] = {}
    for name, spec in sources.items():
        if not spec.get("skip"):
            continue
        label, where = labels[name]
        if spec.get("index"):
            problems.append(LoadProblem(label, f"{where}.skip", "skip: applies to mapped sources, not to a related "
                                        "(index:) source"))
            continue
        compile_problems: list[tuple[str, str]] = []
        env = Env(lookups=lookups, vars=vars_, targets=targets, sources=sources, agency=agency, timezone=timezone,
                  template=f"skip:{name}", source=name, problems=compile_problems, uses=[])
        tests = []
        for i, rule in enumerate(spec["skip"]):
            test, columns = compile_condition(rule["when"], env, f"{where}.skip[{i}].when", "(skip)")
            tests.append((str(rule["reason"]), test))
            if columns:   # `mapping check` and `explain` see the columns a skip reads
                uses.append(Use(f"skip:{name}", tuple(f"{name}.{c}" for c in columns), "(rows skipped)",
                                f"skip '{rule['reason']}'"))
        problems.extend(LoadProblem(label, w, m) for w, m in compile_problems)
        found[name] = tuple(tests)
    return found


def _undeclared_columns(sources: dict[str, dict[str, Any]], labels: dict[str, tuple[str, str]], uses: list[Use],
                        templates: list[Template]) -> list[LoadProblem]:
    """Columns the mapping reads that the source's declared `columns:` (the export's header) lacks:
    a misspelled column fails at load, before any row is read or rejected."""
    import difflib
    read: dict[str, dict[str, str]] = {}
    for use in uses:
        for column in use.columns:
            source, _, col = column.partition(".")
            read.setdefault(source, {}).setdefault(col, f"{use.template} at {use.element}")
    for template in templates:
        if template.source is not None:
            for col in template.key_columns:
                read.setdefault(template.source, {}).setdefault(col, f"{template.name} key")
    found = []
    for name, spec in sources.items():
        declared = spec.get("columns")
        label, where = labels[name]
        for column in spec.get("optional_columns", ()):   # optional is a property of a declared column
            if column not in (declared or ()):
                close = difflib.get_close_matches(column, declared or [], n=2, cutoff=0.6)
                found.append(LoadProblem(label, f"{where}.optional_columns", f"optional column '{column}' is not "
                                         f"among the declared columns of {spec['file']}"
                                         + (f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else "")))
        if not declared or spec.get("format", "csv") != "csv":
            continue
        wanted = dict(read.get(name, {}))
        if spec.get("index"):
            wanted.setdefault(spec["index"], "index:")
        for column, user in wanted.items():
            if column not in declared:
                close = difflib.get_close_matches(column, declared, n=2, cutoff=0.6)
                found.append(LoadProblem(label, f"{where}.columns", f"column '{column}' ({user}) is not among the "
                                         f"declared columns of {spec['file']}"
                                         + (f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else "")))
    return found
