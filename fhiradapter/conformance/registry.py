"""The Registry: every definition the validator, CLI and exporter look up, by canonical URL or type name.

Layers, searched newest first: packages added with `add_package` (--ig), our fhiradapter.bh package
from `paths.profiles_dir()`, then the committed R4 base model (`r4.R4Base`, read lazily per type).
StructureDefinitions are always returned WITH a snapshot: generated on first request (and cached)
for differential-only ones, kept as given otherwise. Returned dicts are shared: do not mutate them.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from .. import canonical
from ..outcome import Issue
from ..paths import profiles_dir
from .package import LoadedPackage, PackageError, load_package
from .r4 import R4Base
from .snapshot import SnapshotError, generate_snapshot
from .terminology import Expander, ExpansionError, ValueSetExpansion, strip_version

CANONICAL_TYPES = frozenset({
    "StructureDefinition", "ValueSet", "CodeSystem", "ConceptMap", "NamingSystem", "SearchParameter",
    "OperationDefinition", "CapabilityStatement", "ImplementationGuide", "CompartmentDefinition",
    "StructureMap", "GraphDefinition", "MessageDefinition", "Questionnaire", "Library", "ActivityDefinition",
    "PlanDefinition", "Measure", "ExampleScenario", "TerminologyCapabilities",
})
R4_PREFIX = "http://hl7.org/fhir/StructureDefinition/"


def _split(key: str) -> tuple[str, str | None]:
    url, sep, version = key.partition("|")
    return url, (version or None) if sep else None


class Registry:
    """Definitions lookup. `Registry.default()` is the shared per-process instance."""

    _default: "Registry | None" = None
    _default_lock = threading.Lock()

    def __init__(self, base: R4Base | None = None) -> None:
        self._base = base or R4Base.shared()
        self._packages: list[LoadedPackage] = []
        self._by_url: dict[str, list[dict[str, Any]]] = {}   # newest package first
        self._sd_ids: dict[str, str] = {}
        self._snapshots: dict[tuple[str, str | None], dict[str, Any] | None] = {}
        self._expansions: dict[str, ValueSetExpansion | None] = {}
        self._expander = Expander(self.code_system, self._value_set, self._precomputed)
        self._generating: set[str] = set()
        self._lock = threading.RLock()
        self.issues: list[Issue] = []   # load and snapshot problems (file/element named), never raised

    # -- construction -----------------------------------------------------------------------------
    @classmethod
    def default(cls) -> "Registry":
        """Base R4 + the fhiradapter.bh package; created once per process."""
        with cls._default_lock:
            if cls._default is None:
                reg = cls()
                folder = profiles_dir()
                if folder.is_dir():
                    reg.add_package(folder)
                cls._default = reg
            return cls._default

    def copy(self) -> "Registry":
        """A registry with the same packages, to add --ig packages without touching the shared one."""
        other = Registry(self._base)
        for pkg in self._packages:
            other._register(pkg)
        return other

    def add_package(self, path: str | Path) -> LoadedPackage:
        """Load a folder of JSON resources (package/ or flat, .index.json optional) or an NPM .tgz.

        Raises PackageError when the path itself is unusable; bad files inside are recorded in
        `issues` and skipped.
        """
        pkg = load_package(path)
        with self._lock:
            self._register(pkg)
        return pkg

    def _register(self, pkg: LoadedPackage) -> None:
        self._packages.insert(0, pkg)
        self.issues.extend(pkg.issues)
        for resource in reversed(pkg.resources):
            url = resource.get("url")
            if resource.get("resourceType") in CANONICAL_TYPES and isinstance(url, str):
                self._by_url.setdefault(url, []).insert(0, resource)
                if resource["resourceType"] == "StructureDefinition" and resource.get("id"):
                    self._sd_ids[resource["id"]] = url
        self._snapshots.clear()
        self._expansions.clear()

    # -- canonical resources --------------------------------------------------------------------
    def _find(self, url: str, version: str | None, resource_type: str | None = None) -> dict[str, Any] | None:
        for resource in self._by_url.get(url, ()):
            if resource_type and resource.get("resourceType") != resource_type:
                continue
            if version is None or resource.get("version") in (None, version):
                return resource
        return None

    def resource(self, url: str) -> dict[str, Any] | None:
        """Any canonical resource loaded (SD with snapshot, VS, CS, ...)."""
        plain, version = _split(url)
        found = self._find(plain, version)
        if found is not None:
            if found.get("resourceType") == "StructureDefinition":
                return self.structure_definition(url)
            return found
        if plain in self._base.sd_index:
            return self.structure_definition(url)
        return self._base.value_set(plain) or self._base.code_system(plain)

    def structure_definition(self, key: str) -> dict[str, Any] | None:
        """By canonical URL (optionally `|version`), base type name, or our SD id; always WITH snapshot."""
        if not isinstance(key, str):
            return None
        url, version = _split(key)
        if not url:
            return None
        if "/" not in url and ":" not in url:
            url = self._sd_ids.get(url) or self._base.url_for_type(url) or ""
            if not url:
                return None
        found = self._find(url, version, "StructureDefinition")
        if found is None:
            base = self._base.structure_definition(url)
            if base is None or (version and base.get("version") not in (None, version)):
                return None
            return base
        if (found.get("snapshot") or {}).get("element"):
            return found
        return self._with_snapshot(found)

    def _with_snapshot(self, sd: dict[str, Any]) -> dict[str, Any] | None:
        key = (sd["url"], sd.get("version"))
        with self._lock:
            if key in self._snapshots:
                return self._snapshots[key]
            if sd["url"] in self._generating:
                self.issues.append(Issue("error", "structure", f"StructureDefinition {sd['url']}: "
                                         "derives from itself; no snapshot"))
                return None
            self._generating.add(sd["url"])
            try:
                elements = generate_snapshot(sd, self.structure_definition)
            except SnapshotError as exc:
                self.issues.append(Issue("error", "structure", str(exc)))
                result = None
            except (KeyError, TypeError, AttributeError, ValueError, IndexError) as exc:
                # Malformed differential in an --ig package (wrong JSON shapes): report, do not crash.
                self.issues.append(Issue("error", "structure", f"StructureDefinition {sd['url']}: malformed "
                                         f"differential ({type(exc).__name__}: {exc}); no snapshot"))
                result = None
            else:
                result = {**sd, "snapshot": {"element": elements}}
            finally:
                self._generating.discard(sd["url"])
            self._snapshots[key] = result
            return result

    def base_definition(self, type_name: str) -> dict[str, Any]:
        """The R4 core StructureDefinition of a type or resource; KeyError if R4 has no such type."""
        url = self._base.url_for_type(type_name) if "/" not in type_name else type_name
        sd = self._base.structure_definition(url) if url else None
        if sd is None:
            raise KeyError(f"R4 has no type or resource named {type_name!r}")
        return sd

    # -- our profiles -----------------------------------------------------------------------------
    def _profile_sds(self) -> list[dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for pkg in self._packages:
            for r in pkg.resources:
                if r.get("resourceType") == "StructureDefinition" and r.get("derivation") == "constraint" \
                        and r.get("kind") == "resource" and isinstance(r.get("url"), str):
                    out.setdefault(r["url"], r)
        return list(out.values())

    def profiles_for(self, resource_type: str, program: str | None = None) -> list[str]:
        """Profile URLs loaded for that resource type; with program, only that program's profiles."""
        urls = []
        for sd in self._profile_sds():
            if sd.get("type") != resource_type:
                continue
            if program is not None and not str(sd.get("id", "")).startswith(f"{program}-"):
                continue
            urls.append(sd["url"])
        return sorted(urls)

    def program_profile(self, program: str, resource_type: str) -> str | None:
        url = canonical.profile_url(program, resource_type)
        return url if self._find(url, None, "StructureDefinition") is not None else None

    def primary_package(self) -> LoadedPackage | None:
        """Our own package (fhiradapter.bh) if loaded, else the first package added."""
        for pkg in self._packages:
            if pkg.name == canonical.PACKAGE_NAME:
                return pkg
        return self._packages[-1] if self._packages else None

    @property
    def packages(self) -> list[LoadedPackage]:
        return list(self._packages)

    # -- terminology ------------------------------------------------------------------------------
    def code_system(self, url: str) -> dict[str, Any] | None:
        plain, version = _split(url)
        return self._find(plain, version, "CodeSystem") or self._base.code_system(plain)

    def _value_set(self, url: str) -> dict[str, Any] | None:
        plain, version = _split(url)
        return self._find(plain, version, "ValueSet") or self._base.value_set(plain)

    def _precomputed(self, url: str) -> ValueSetExpansion | None:
        plain = strip_version(url)
        if self._find(plain, None, "ValueSet") is None and self._base.has_expansion(plain):
            return self._base.expansion(plain)
        return None

    def expand(self, value_set_url: str) -> ValueSetExpansion | None:
        """Codes of a ValueSet; None when it cannot be expanded locally (external or unknown)."""
        url = strip_version(value_set_url)
        if url in self._expansions:
            return self._expansions[url]
        with self._lock:
            local = self._find(url, None, "ValueSet")
            result: ValueSetExpansion | None
            if local is None:
                result = self._base.expansion(url)
            else:
                try:
                    result = self._expander.expand(local)
                except ExpansionError as exc:
                    self.issues.append(Issue("error", "processing", str(exc)))
                    result = None
                except (KeyError, TypeError, AttributeError, ValueError) as exc:
                    self.issues.append(Issue("error", "processing", f"ValueSet {url}: malformed compose "
                                             f"({type(exc).__name__}: {exc}); not expanded"))
                    result = None
            self._expansions[url] = result
            return result


__all__ = ["Registry", "PackageError"]
