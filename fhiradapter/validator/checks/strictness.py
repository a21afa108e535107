"""The stricter reading of R4 (`validate --strict`): checks of rules of R4 itself that the HL7 reference
validator does not apply offline (control characters in strings, narrative XHTML well-formedness, codes
unknown in a complete code system where no binding asks, the target type or form of a reference it cannot
resolve). By default their findings are warnings, so our verdict follows the reference's; with
`strict=True` they are errors. The table is the catalogue: a check with `"strict": "error"`."""
from __future__ import annotations

from collections.abc import Iterable

from ...outcome import Issue
from .catalogue import CHECKS

STRICT_ONLY: frozenset[str] = frozenset(c.id for c in CHECKS if c.strict)


def relax(issues: Iterable[Issue]) -> None:
    """Errors of the strict-only checks become warnings (in place)."""
    for issue in issues:
        if issue.severity == "error" and issue.rule in STRICT_ONLY:
            issue.severity = "warning"
