"""The test kit's data: the sample of resources under test and the result of each named test."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["pass", "fail", "skip"]


@dataclass(frozen=True, slots=True)
class Failure:
    """One failing resource and element; `message` names elements, never record values (unless asked)."""
    resource: str            # "Encounter/abc"
    element: str | None      # FHIRPath or element id
    message: str
    origin: str | None = None   # file[:line] or server URL the resource came from


@dataclass(slots=True)
class TestResult:
    id: str                  # stable id, e.g. "profile.mt-cmp-encounter.Encounter.type"
    group: str               # access | profiles | must-support | references | rules
    title: str
    status: Status
    message: str = ""        # why it failed or was skipped; a pass may say what was checked
    failures: list[Failure] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status == "pass"


@dataclass(slots=True)
class SampleItem:
    resource: dict[str, Any]
    origin: str              # file[:line][#entry] or the URL it was read from
    full_url: str | None = None

    @property
    def key(self) -> str:
        return f"{self.resource.get('resourceType')}/{self.resource.get('id')}"


@dataclass(slots=True)
class Sample:
    """All resources under test, de-duplicated by type/id (a later copy of the same resource is ignored)."""
    items: list[SampleItem] = field(default_factory=list)
    problems: list[Failure] = field(default_factory=list)   # unreadable input, fetch errors
    _seen: set[str] = field(default_factory=set)

    def add(self, resource: dict[str, Any], origin: str, full_url: str | None = None) -> None:
        item = SampleItem(resource, origin, full_url)
        if item.key in self._seen:
            return
        self._seen.add(item.key)
        self.items.append(item)

    def of_type(self, resource_type: str) -> list[SampleItem]:
        return [i for i in self.items if i.resource.get("resourceType") == resource_type]

    def types(self) -> list[str]:
        return sorted({str(i.resource.get("resourceType")) for i in self.items})
