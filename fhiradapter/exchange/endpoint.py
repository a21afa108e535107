"""One back-off clock and one circuit breaker per endpoint, kept in the journal across Bundles and runs;
and what the endpoint's CapabilityStatement says about limits and versioned updates.

Why per endpoint: a throttled or down server is the same server for every Bundle. Counting tries per
Bundle sent N tries for each of M Bundles to a server that was down, and forgot a long Retry-After
at the next Bundle and at the next run. Here, consecutive transient failures are counted for the
endpoint: after `max_attempts` of them the circuit opens and the run stops sending (the rest stays
pending for the next run); a Retry-After sets the clock for every Bundle, and one beyond
`max_retry_after` ends the run at once, with the time it ends kept for the next run.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .journal import EndpointState, Journal
from .retry import RetryPolicy

MAX_ENTRIES_EXTENSION = "https://fhiradapter.org/fhir/StructureDefinition/max-transaction-entries"


class EndpointClosed(Exception):
    """No request may go to this endpoint in this run (throttled beyond the wait limit, or circuit open)."""

    def __init__(self, message: str, until: float) -> None:
        super().__init__(message)
        self.until = until


def when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


@dataclass(slots=True)
class Capability:
    """What we use from a CapabilityStatement (None/empty: not stated)."""
    max_entries: int | None = None
    versioned_update: frozenset[str] = frozenset()   # resource types; "*" for all

    def versioned(self, resource_type: str | None) -> bool:
        return "*" in self.versioned_update or (resource_type or "") in self.versioned_update

    def summary(self) -> dict[str, Any]:
        return {"max_entries": self.max_entries, "versioned_update": sorted(self.versioned_update)}


def parse_capability(body: Any) -> Capability:
    """Limits and versioning from a CapabilityStatement; anything odd counts as not stated."""
    cap = Capability()
    if not isinstance(body, dict) or body.get("resourceType") != "CapabilityStatement":
        return cap
    versioned: set[str] = set()
    for rest in body.get("rest") or []:
        if not isinstance(rest, dict) or rest.get("mode", "server") != "server":
            continue
        for ext in rest.get("extension") or []:
            if isinstance(ext, dict) and ext.get("url") == MAX_ENTRIES_EXTENSION:
                value = ext.get("valueUnsignedInt", ext.get("valuePositiveInt", ext.get("valueInteger")))
                if isinstance(value, int) and value > 0:
                    cap.max_entries = value
        for resource in rest.get("resource") or []:
            if isinstance(resource, dict) and resource.get("versioning") == "versioned-update" \
                    and isinstance(resource.get("type"), str):
                versioned.add(resource["type"])
    cap.versioned_update = frozenset(versioned)
    return cap


class EndpointGuard:
    """Decides when the next request to the endpoint may leave, and records how each one went."""

    def __init__(self, journal: Journal, endpoint: str, retry: RetryPolicy,
                 clock: Callable[[], float] = time.time) -> None:
        self.journal, self.retry, self.clock = journal, retry, clock
        self.state: EndpointState = journal.endpoint_state(endpoint)
        self.capability = Capability(max_entries=self.state.max_entries)
        if self.state.capability:
            self.capability.versioned_update = frozenset(self.state.capability.get("versioned_update") or [])
        self._failures_this_run = 0
        self._pending: float = 0.0   # the wait just asked for in this process (slept in full: never early)

    # -- before a request -----------------------------------------------------------------------
    def wait_turn(self) -> None:
        """Sleep until the endpoint's clock allows a request; raise EndpointClosed when the wait is
        beyond the limit or the circuit is open."""
        if self._failures_this_run >= self.retry.max_attempts:
            raise EndpointClosed(f"endpoint failed {self._failures_this_run} times in a row "
                                 f"(last: {self.state.reason}); circuit open, nothing more is sent this run",
                                 self.state.not_before)
        wait = max(self.state.not_before - self.clock(), self._pending)
        self._pending = 0.0
        if wait <= 0:
            return
        if wait > self.retry.max_retry_after:
            raise EndpointClosed(f"the server asked to wait until {when(self.state.not_before)} "
                                 f"({self.state.reason}); nothing is sent before then", self.state.not_before)
        self.retry.sleep(wait)

    # -- after a request ------------------------------------------------------------------------
    def succeeded(self) -> None:
        self._failures_this_run = 0
        self._pending = 0.0
        if self.state.failures or self.state.not_before:
            self.state.failures, self.state.not_before, self.state.reason = 0, 0.0, None
            self.journal.save_endpoint(self.state)

    def failed(self, reason: str, retry_after: float | None) -> None:
        """A transient failure (no answer, 408/429/5xx): advance the shared clock, persisted."""
        self._failures_this_run += 1
        self.state.failures += 1
        if retry_after is not None:
            # Never earlier than the server asked; a little jitter after it avoids a thundering herd.
            delay = retry_after + self.retry.rng.uniform(0, min(1.0, self.retry.base_delay))
            reason = f"{reason}, Retry-After {retry_after:.0f} s"
        else:
            delay = self.retry.backoff(min(self.state.failures, 30))
        self._pending = delay
        self.state.not_before = max(self.state.not_before, self.clock() + delay)
        self.state.reason = reason
        self.journal.save_endpoint(self.state)

    # -- what the server told us about itself ---------------------------------------------------
    def learn_capability(self, cap: Capability) -> None:
        self.capability = cap
        before = (self.state.capability, self.state.max_entries)
        self.state.capability = cap.summary()
        if cap.max_entries is not None:   # a smaller size learned from a refusal still wins
            self.state.max_entries = min(cap.max_entries, self.state.max_entries or cap.max_entries)
        if (self.state.capability, self.state.max_entries) != before:   # no write (and fsync) when unchanged
            self.journal.save_endpoint(self.state)

    def learn_max_entries(self, limit: int) -> None:
        """The server refused a request of more than `limit` entries: remember it for later runs."""
        if self.state.max_entries is None or limit < self.state.max_entries:
            self.state.max_entries = limit
            self.capability.max_entries = limit
            self.journal.save_endpoint(self.state)
