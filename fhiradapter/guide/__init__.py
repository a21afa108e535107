"""`fhiradapter guide build`: the package as a static, self-contained HTML guide (issue 16).

    from fhiradapter.guide import build_guide
    pages = build_guide(Path("site"), findings_from=[Path("out/")])

Pages: home, programs (one per program), profiles (one per profile, differential and snapshot tables,
invariants, examples), terminology (one page per CodeSystem and ValueSet), the rule catalogue, citations,
downloads (the package tarball, the examples). Templates are Jinja2 files in `templates/` (package data);
the site needs no network to view: one local stylesheet, no scripts, no fonts, no CDN.
"""
from __future__ import annotations

from .build import GuideError, build_guide, findings_by_rule

__all__ = ["build_guide", "findings_by_rule", "GuideError"]
