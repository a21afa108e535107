"""Local ValueSet expansion from `compose` (no terminology server).

What can be enumerated here: concept lists (any system), whole local CodeSystems (content complete or
fragment), and filters `is-a`, `descendent-of`, `is-not-a`, `generalizes`, `=` (on `concept` or a
concept property), `regex` (on `code`), `in`/`not-in` (on `concept`) over local CodeSystems; `valueSet`
imports; `exclude`. Anything else (SNOMED, LOINC, CPT, ICD-10-CM, HCPCS, NUCC, RxNorm, UCUM, BCP-47,
unknown systems, unsupported filters) is *external*: the expansion lists the system in
`external_systems` so a caller can say "not checked" instead of "invalid".
A CodeSystem with content `fragment` is enumerated *and* reported external: a code found is valid, a
code not found is unknown rather than wrong.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

Resolver = Callable[[str], "dict[str, Any] | None"]

# Systems that are never enumerated locally even if a stub CodeSystem happens to be loaded.
KNOWN_EXTERNAL: frozenset[str] = frozenset({
    "http://snomed.info/sct",
    "http://loinc.org",
    "http://www.ama-assn.org/go/cpt",
    "http://hl7.org/fhir/sid/icd-10-cm",
    "http://hl7.org/fhir/sid/icd-10",
    "http://hl7.org/fhir/sid/icd-9-cm",
    "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    "http://nucc.org/provider-taxonomy",
    "http://www.nlm.nih.gov/research/umls/rxnorm",
    "http://unitsofmeasure.org",
    "urn:ietf:bcp:47",
    "urn:ietf:bcp:13",
    "urn:iso:std:iso:4217",
    "urn:iso:std:iso:3166",
    "http://hl7.org/fhir/sid/ndc",
    "http://hl7.org/fhir/sid/cvx",
})

ENUMERABLE_CONTENT = {"complete", "fragment"}


class ExpansionError(Exception):
    """A ValueSet cannot be expanded (cycle in imports); the message names the ValueSet."""


@dataclass(frozen=True)
class ValueSetExpansion:
    """The codes of a ValueSet as (system, code) pairs, plus the systems we could not enumerate."""

    url: str
    pairs: frozenset[tuple[str, str]]
    external_systems: frozenset[str] = frozenset()
    _codes: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self._codes and self.pairs:
            object.__setattr__(self, "_codes", frozenset(c for _, c in self.pairs))

    @classmethod
    def of(cls, url: str, pairs: Iterable[tuple[str, str]], external: Iterable[str] = ()) -> "ValueSetExpansion":
        pair_set = frozenset(pairs)
        return cls(url, pair_set, frozenset(external), frozenset(c for _, c in pair_set))

    def contains(self, system: str | None, code: str) -> bool:
        """True when the code is in the expansion; system None matches the code in any system."""
        if system is None:
            return code in self._codes
        return (system, code) in self.pairs

    @property
    def systems(self) -> frozenset[str]:
        return frozenset(s for s, _ in self.pairs)

    def __len__(self) -> int:
        return len(self.pairs)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(sorted(self.pairs))


def strip_version(url: str) -> str:
    return url.split("|", 1)[0]


def walk_concepts(concepts: list[dict[str, Any]] | None,
                  parent: str | None = None) -> Iterator[tuple[dict[str, Any], str | None]]:
    """Every concept of a CodeSystem tree with its parent code."""
    for concept in concepts or []:
        yield concept, parent
        yield from walk_concepts(concept.get("concept"), concept.get("code"))


class _CodeSystemIndex:
    """Codes, parent links and properties of one CodeSystem, for filters."""

    def __init__(self, cs: dict[str, Any]) -> None:
        self.codes: list[str] = []
        self.parents: dict[str, set[str]] = {}
        self.properties: dict[str, dict[str, str]] = {}
        for concept, parent in walk_concepts(cs.get("concept")):
            code = concept.get("code")
            if not isinstance(code, str):
                continue
            if code not in self.parents:
                self.codes.append(code)
                self.parents[code] = set()
            if parent:
                self.parents[code].add(parent)
            props = self.properties.setdefault(code, {})
            for prop in concept.get("property") or []:
                value = next((str(v) for k, v in prop.items() if k.startswith("value")), None)
                if prop.get("code") in ("parent", "subsumedBy") and value:
                    self.parents[code].add(value)
                elif prop.get("code") and value is not None:
                    props[prop["code"]] = value

    def ancestors(self, code: str) -> set[str]:
        seen: set[str] = set()
        stack = list(self.parents.get(code, ()))
        while stack:
            parent = stack.pop()
            if parent not in seen:
                seen.add(parent)
                stack.extend(self.parents.get(parent, ()))
        return seen

    def apply(self, op: str, prop: str, value: str) -> set[str] | None:
        """Codes passing one filter, or None when the filter is not supported."""
        if prop == "concept" and op in ("is-a", "descendent-of", "is-not-a", "generalizes"):
            if op == "is-a":
                return {c for c in self.codes if c == value or value in self.ancestors(c)}
            if op == "descendent-of":
                return {c for c in self.codes if value in self.ancestors(c)}
            if op == "is-not-a":
                return {c for c in self.codes if c != value and value not in self.ancestors(c)}
            return ({value} | self.ancestors(value)) & set(self.codes)
        if op == "=":
            if prop in ("concept", "code"):
                return {value} & set(self.codes)
            return {c for c in self.codes if self.properties.get(c, {}).get(prop) == value}
        if op in ("in", "not-in") and prop in ("concept", "code"):
            listed = {v.strip() for v in value.split(",")}
            return listed & set(self.codes) if op == "in" else set(self.codes) - listed
        if op == "regex" and prop in ("concept", "code"):
            try:
                pattern = re.compile(value)
            except re.error:
                return None
            return {c for c in self.codes if pattern.fullmatch(c)}
        if op == "exists" and prop != "concept":
            want = value == "true"
            return {c for c in self.codes if (prop in self.properties.get(c, {})) == want}
        return None


class Expander:
    """Expands ValueSets using `find_cs(url)` and `find_vs(url)` lookups (registry-provided)."""

    def __init__(self, find_cs: Resolver, find_vs: Resolver,
                 precomputed: "Callable[[str], ValueSetExpansion | None] | None" = None) -> None:
        self._find_cs = find_cs
        self._find_vs = find_vs
        # Imports of ValueSets whose expansion is already known (base R4) skip re-expansion.
        self._precomputed = precomputed or (lambda url: None)
        self._cs_index: dict[str, _CodeSystemIndex | None] = {}

    def _index(self, system: str) -> _CodeSystemIndex | None:
        if system not in self._cs_index:
            cs = None if system in KNOWN_EXTERNAL else self._find_cs(system)
            if cs is None or cs.get("content", "complete") not in ENUMERABLE_CONTENT or not cs.get("concept"):
                self._cs_index[system] = None
            else:
                self._cs_index[system] = _CodeSystemIndex(cs)
        return self._cs_index[system]

    def _is_fragment(self, system: str) -> bool:
        cs = None if system in KNOWN_EXTERNAL else self._find_cs(system)
        return cs is not None and cs.get("content") == "fragment"

    def expand(self, vs: dict[str, Any], _stack: tuple[str, ...] = ()) -> ValueSetExpansion | None:
        """Expansion of vs, or None when nothing of it can be enumerated locally."""
        url = vs.get("url", "")
        if url in _stack:
            raise ExpansionError(f"ValueSet {url} imports itself (via {' -> '.join(_stack)})")
        compose = vs.get("compose")
        if not isinstance(compose, dict):
            return self._from_expansion(vs)
        pairs: set[tuple[str, str]] = set()
        external: set[str] = set()
        enumerated_any = False
        for inc in compose.get("include") or []:
            got, ext, ok = self._part(inc, _stack + (url,))
            pairs |= got
            external |= ext
            enumerated_any = enumerated_any or ok
        for exc in compose.get("exclude") or []:
            got, _ext, _ok = self._part(exc, _stack + (url,))
            pairs -= got
        if not enumerated_any and not pairs:
            return None
        return ValueSetExpansion.of(url, pairs, external)

    @staticmethod
    def _from_expansion(vs: dict[str, Any]) -> ValueSetExpansion | None:
        contains = (vs.get("expansion") or {}).get("contains")
        if not contains:
            return None
        pairs: set[tuple[str, str]] = set()
        stack = list(contains)
        while stack:
            item = stack.pop()
            if item.get("system") and item.get("code"):
                pairs.add((item["system"], item["code"]))
            stack.extend(item.get("contains") or [])
        return ValueSetExpansion.of(vs.get("url", ""), pairs)

    def _part(self, part: dict[str, Any], stack: tuple[str, ...]) -> tuple[set[tuple[str, str]], set[str], bool]:
        """(pairs, external systems, enumerated?) for one include/exclude."""
        system = part.get("system")
        pairs: set[tuple[str, str]] | None = None
        external: set[str] = set()
        if system:
            if part.get("concept"):
                pairs = {(system, c["code"]) for c in part["concept"] if isinstance(c.get("code"), str)}
            else:
                index = self._index(system)
                if index is None:
                    return set(), {system}, False
                codes: set[str] = set(index.codes)
                for flt in part.get("filter") or []:
                    passed = index.apply(str(flt.get("op")), str(flt.get("property")), str(flt.get("value", "")))
                    if passed is None:
                        return set(), {system}, False
                    codes &= passed
                pairs = {(system, c) for c in codes}
                if self._is_fragment(system):
                    external.add(system)
        for vs_url in part.get("valueSet") or []:
            imported = self._precomputed(vs_url)
            imported_vs = self._find_vs(strip_version(vs_url))
            if imported is None and imported_vs is not None:
                imported = self.expand(imported_vs, stack)
            if imported is None:
                # An unknown or external import: we cannot say which codes it has.
                external |= set(_systems_of(imported_vs) if imported_vs else ()) or {vs_url}
                if pairs is None:
                    return set(), external, False
                continue
            imported_pairs = set(imported.pairs)
            external |= imported.external_systems
            pairs = imported_pairs if pairs is None else pairs & imported_pairs
        return pairs or set(), external, pairs is not None


def _systems_of(vs: dict[str, Any]) -> list[str]:
    return [inc["system"] for inc in (vs.get("compose") or {}).get("include") or [] if inc.get("system")]
