"""Deterministic resource ids (docs/design.md, "Identity, provenance and exchange").

id = uuid5(uuid5(NAMESPACE_URL, BASE), "{agency}|{resourceType}|{source key}"): the same agency record
always gets the same id, so a re-run is byte-identical and re-sending (PUT) never duplicates.
The mapping engine uses source key = "{kind}/{key}" (docs/mapping-language.md, Ids and identifiers).
"""
from __future__ import annotations

import hashlib
import uuid
from functools import lru_cache

from fhiradapter.canonical import BASE

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, BASE)
_NAMESPACE_SHA1 = hashlib.sha1(NAMESPACE.bytes)   # hashed once; each id continues a copy of it
# RFC 9562 variant bits (10xx) on the first hex digit of the clock_seq field
_VARIANT_DIGIT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def uuid5_text(name: str) -> str:
    """str(uuid.uuid5(NAMESPACE, name)) without building UUID objects (the mapper's hot path)."""
    sha = _NAMESPACE_SHA1.copy()
    sha.update(name.encode("utf-8"))
    h = sha.hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT_DIGIT[h[16]]}{h[17:20]}-{h[20:32]}"


@lru_cache(maxsize=16384)  # references repeat (one Patient, thousands of contacts); bounded memory
def resource_id(agency: str, resource_type: str, source_key: str) -> str:
    """The UUIDv5 id of the resource of `resource_type` mapped from `source_key` of `agency`."""
    return uuid5_text(f"{agency}|{resource_type}|{source_key}")


def mapped_name_prefix(agency: str, resource_type: str, kind: str) -> str:
    """The UUIDv5 name of a mapped record, up to its source key: name = prefix + key."""
    return f"{agency}|{resource_type}|{kind}/"


@lru_cache(maxsize=16384)
def mapped_id(agency: str, resource_type: str, kind: str, key: str) -> str:
    """The id the mapping engine gives a record of key space `kind` with source key `key`."""
    return uuid5_text(mapped_name_prefix(agency, resource_type, kind) + key)


def identifier_system(agency: str, kind: str) -> str:
    """Default identifier system of a mapped key space: {BASE}/sid/{agency}/{kind}."""
    return f"{BASE}/sid/{agency}/{kind}"
