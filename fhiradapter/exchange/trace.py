"""After the server refuses a whole Bundle: which entry it refused, and what it kept anyway.

A transaction refused with one OperationOutcome often does not say which entry was wrong (Medplum names
`Encounter.class`, not `Bundle.entry[7]`). Issues that name `Bundle.entry[i]` are filed on that entry;
an issue whose resource type matches one entry is filed on it; otherwise each entry of that type is
checked with the server's own `$validate`, and the issues it reports are filed on exactly the entries
it refuses. Then, since not every server rolls a refused transaction back, each update is read back:
the journal records per entry what the server holds (`stored`, `unchanged`, `absent`).
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .journal import EntryOutcome
from .responses import outcome_has_errors, slim_outcome

if TYPE_CHECKING:
    from .inputs import Unit
    from .journal import Row
    from .sender import Sender

_ENTRY = re.compile(r"Bundle\.entry\[(\d+)\]")
_TYPE = re.compile(r"^([A-Z][A-Za-z]+)\.")
MAX_VALIDATE = 50   # $validate calls spent tracing one refusal


def entry_outcomes_from_expression(outcome: dict[str, Any] | None, n: int, status: int
                                   ) -> tuple[list[EntryOutcome], dict[str, Any] | None]:
    """Split a whole-Bundle OperationOutcome: issues naming `Bundle.entry[i]` go to that entry (and only
    there, so `status` prints each once); the rest stays with the Bundle."""
    if not outcome:
        return [], outcome
    per: dict[int, list[dict[str, Any]]] = {}
    rest: list[dict[str, Any]] = []
    for issue in outcome.get("issue", []):
        texts = list(issue.get("expression") or []) + list(issue.get("location") or [])
        texts.append(str((issue.get("details") or {}).get("text") or ""))
        index = next((int(m.group(1)) for t in texts if (m := _ENTRY.search(str(t))) and int(m.group(1)) < n), None)
        if index is None:
            rest.append(issue)
        else:
            per.setdefault(index, []).append(issue)
    whole = {"resourceType": "OperationOutcome", "issue": rest} if rest else None
    filed: list[EntryOutcome] = [(i, status, None, {"resourceType": "OperationOutcome", "issue": issues})
                                 for i, issues in per.items()]
    return filed, whole


def after_refusal(sender: Sender, unit: Unit, row: Row, whole: dict[str, Any] | None, filed: bool) -> None:
    """Trace untied issues to exact entries, then record what the server holds of each update."""
    journal = sender.journal
    if whole:
        traced, rest = _trace(sender, unit, whole, row.last_status)
        if traced:
            journal.mark(row, "failed", status=row.last_status, error=row.last_error, retryable=False,
                         outcome=rest, entry_results=traced)
    if unit.bundle.get("type") == "transaction":
        _record_held(sender, unit, row)


def _trace(sender: Sender, unit: Unit, whole: dict[str, Any], status: int | None
           ) -> tuple[list[EntryOutcome], dict[str, Any] | None]:
    issues = list(whole.get("issue") or [])
    types = {m.group(1) for i in issues for e in i.get("expression") or [] if (m := _TYPE.match(str(e)))}
    entries = unit.bundle["entry"]
    candidates = [i for i, e in enumerate(entries) if not types or e["resource"].get("resourceType") in types]
    if len(candidates) == 1:
        return [(candidates[0], status, None, whole)], None
    if not candidates or len(candidates) > MAX_VALIDATE:
        return [], whole
    traced: list[EntryOutcome] = []
    for index in candidates:
        result = sender.validate_resource(entries[index]["resource"])
        if result.status is None or result.status in (404, 405, 501):
            return [], whole           # no $validate here: `status` lists the candidates instead
        if result.status != 200 or outcome_has_errors(result.body):
            traced.append((index, status, None, slim_outcome(result.body) or whole))
    return (traced, None) if traced else ([], whole)


def _record_held(sender: Sender, unit: Unit, row: Row) -> None:
    from .stale import read_versions
    journal, endpoint = sender.journal, sender.client.endpoint
    refs = {e.ref: e.idx for e in unit.entries if e.ref}
    if not refs:
        return
    before = journal.known_versions(endpoint, list(refs))
    current = read_versions(sender, list(refs))
    if current is None:
        return
    held: dict[int, str] = {}
    stored: dict[str, str] = {}
    for ref, idx in refs.items():
        now = current.get(ref)
        if now is None:
            held[idx] = "absent"
        elif before.get(ref) == now:
            held[idx] = f"unchanged (version {now})"
        else:
            held[idx] = f"stored (version {now})" if now else "stored"
            if now:
                stored[ref] = now
    journal.set_held(row, held)
    if stored:
        journal.record_versions(endpoint, row.id, stored)
