"""Program policy rules (issue 4): checks over one member's records that cite the seed policies.

    from fhiradapter.rules import run_rules, RuleConfig, catalogue
"""
from __future__ import annotations

import importlib

from .config import ConfigError, RuleConfig
from .engine import catalogue, run_rules
from .registry import Finding, Rule, rule, note

from ..programs import PROGRAM_TABLE

# One module per program (from the programs table) plus the all-program rules; importing registers
# their rules.
RULE_MODULES: tuple[str, ...] = ("common", *(p.rule_module for p in PROGRAM_TABLE), "consent")
_loaded = False


def load_all() -> None:
    global _loaded
    if not _loaded:
        for name in RULE_MODULES:
            importlib.import_module(f"{__name__}.{name}")
        _loaded = True


__all__ = ["run_rules", "RuleConfig", "ConfigError", "catalogue", "Rule", "Finding", "rule", "note",
           "load_all"]
