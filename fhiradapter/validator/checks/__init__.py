"""Validator checks beyond the structural walk, one small module per family, and their catalogue.

RESOURCE_CHECKS: per resource type, the checks run once the walk of a resource of that type is done;
EVERY_RESOURCE: (key, check) run on every resource that has the key. Each check reports through `Reporter` with its catalogue id.
"""
from __future__ import annotations

from .base import CheckEnv, Reporter, ResourceCheck
from .bundle_rules import check_bundle_rules
from .conformance import CONFORMANCE_CHECKS
from .narrative import check_narrative
from .resource_id import check_resource_id

# run on every resource that has the key (a dict lookup decides, so resources without it pay nothing)
EVERY_RESOURCE: tuple[tuple[str, ResourceCheck], ...] = (("id", check_resource_id), ("text", check_narrative))

RESOURCE_CHECKS: dict[str, tuple[ResourceCheck, ...]] = {
    "Bundle": (check_bundle_rules,),
    **CONFORMANCE_CHECKS,
}

__all__ = ["EVERY_RESOURCE", "RESOURCE_CHECKS", "CheckEnv", "Reporter", "ResourceCheck"]
