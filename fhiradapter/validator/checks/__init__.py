"""Validator checks beyond the structural walk, one small module per family, and their catalogue.

RESOURCE_CHECKS: per resource type, the checks run once the walk of a resource of that type is done;
EVERY_RESOURCE: run on every resource. Each check reports through `Reporter` with its catalogue id.
"""
from __future__ import annotations

from .base import CheckEnv, Reporter, ResourceCheck
from .bundle_rules import check_bundle_rules
from .conformance import CONFORMANCE_CHECKS
from .narrative import check_narrative
from .resource_id import check_resource_id

EVERY_RESOURCE: tuple[ResourceCheck, ...] = (check_resource_id, check_narrative)

RESOURCE_CHECKS: dict[str, tuple[ResourceCheck, ...]] = {
    "Bundle": (check_bundle_rules,),
    **CONFORMANCE_CHECKS,
}

__all__ = ["EVERY_RESOURCE", "RESOURCE_CHECKS", "CheckEnv", "Reporter", "ResourceCheck"]
