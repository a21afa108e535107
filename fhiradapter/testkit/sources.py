"""Where the sample comes from: files a vendor exported, or the vendor's FHIR server (read/search by
patient, Bulk Data `$export` where the server offers it). Access steps are tests too (group `access`)."""
from __future__ import annotations

import time
from typing import Any, Callable
from urllib.parse import urljoin

import orjson
import requests

from ..canonical import PROFILED_RESOURCES
from ..exchange.auth import Auth, NoAuth
from ..validator.inputs import InputError, expand_paths, read
from .model import Failure, Sample, TestResult

# Search parameter that names the member, per resource type (R4 search parameters): the profiled types,
# then the member records program rules also read (ma-csp termination notices, pa-tcm discharge summaries).
PATIENT_PARAM = {"CarePlan": "subject", "Encounter": "subject", "ServiceRequest": "subject", "Consent": "patient",
                 "Communication": "subject", "DocumentReference": "subject", "EpisodeOfCare": "patient",
                 "Coverage": "beneficiary"}
SEARCHED = (*PROFILED_RESOURCES, *(t for t in ("Communication", "DocumentReference", "EpisodeOfCare", "Coverage")
                                  if t not in PROFILED_RESOURCES))
# How many hops of references the kit follows from the member records (e.g. Location -> Organization ->
# its parent organization), so reference integrity is judged on what the server resolves.
REFERENCE_DEPTH = 4


def from_files(paths: list[str]) -> Sample:
    """Resources of JSON files, Bundles and NDJSON (files or folders); unreadable input is recorded."""
    sample = Sample()
    try:
        files = expand_paths(paths)
    except InputError as exc:
        sample.problems.append(Failure("input", None, str(exc)))
        return sample
    for file in files:
        try:
            for item in read(file):
                origin = f"{item.source}:{item.line}" if item.line else item.source
                if item.issue is not None or not isinstance(item.resource, dict):
                    sample.problems.append(Failure("input", None, item.issue.message if item.issue else
                                                   "not a JSON object", origin))
                    continue
                _add(sample, item.resource, origin)
        except InputError as exc:
            sample.problems.append(Failure("input", None, str(exc), file))
    return sample


def _add(sample: Sample, data: dict[str, Any], origin: str) -> None:
    if data.get("resourceType") == "Bundle":
        for n, entry in enumerate(data.get("entry") or []):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(resource, dict):
                sample.add(resource, f"{origin}#entry{n}", entry.get("fullUrl"))
    elif isinstance(data.get("resourceType"), str):
        sample.add(data, origin)


class ServerSource:
    """Reads a program's resources from a FHIR server for the given (or discovered) patients."""

    def __init__(self, endpoint: str, *, auth: Auth | None = None, session: requests.Session | None = None,
                 timeout: float = 60.0, max_patients: int = 200, bulk_wait: float = 300.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.base = endpoint.rstrip("/") + "/"
        self.auth = auth or NoAuth()
        self.session = session or requests.Session()
        self.timeout = timeout
        self.max_patients = max_patients
        self.bulk_wait = bulk_wait
        self.sleep = sleep
        self.results: list[TestResult] = []

    def _get(self, url: str, headers: dict[str, str] | None = None) -> requests.Response:
        full = url if url.startswith(("http://", "https://")) else urljoin(self.base, url)
        response = self.session.get(full, headers={"Accept": "application/fhir+json", **self.auth.headers(),
                                                   **(headers or {})}, timeout=self.timeout)
        if response.status_code == 401:
            self.auth.invalidate()
            response = self.session.get(full, headers={"Accept": "application/fhir+json", **self.auth.headers(),
                                                       **(headers or {})}, timeout=self.timeout)
        return response

    def _json(self, response: requests.Response) -> dict[str, Any] | None:
        try:
            data = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            return None
        return data if isinstance(data, dict) else None

    def _result(self, test_id: str, title: str, status: str, message: str = "",
                failures: list[Failure] | None = None) -> None:
        self.results.append(TestResult(f"access.{test_id}", "access", title, status, message,  # type: ignore[arg-type]
                                       failures or []))

    def fetch(self, patients: list[str], *, bulk: bool = True) -> Sample:
        sample = Sample()
        capability = self._capability()
        if bulk:
            self._bulk(capability, sample)
        else:
            self._result("bulk-export", "Bulk Data $export: kick-off, poll and download (Patient level)", "skip",
                         "not requested (--no-bulk)")
        ids = patients or self._discover_patients()
        if not ids:
            self._result("patients", "The server returns the sample's patients", "fail",
                         "no Patient found (give --patient ID, or check the server's Patient search)")
            return sample
        self._read_patients(ids, sample)
        for resource_type in SEARCHED:
            self._search(resource_type, ids, sample)
        self._read_references(sample)
        return sample

    def _capability(self) -> dict[str, Any]:
        try:
            response = self._get("metadata")
        except requests.RequestException as exc:
            self._result("capability", "GET [base]/metadata returns a CapabilityStatement", "fail",
                         f"server not reachable: {type(exc).__name__}")
            return {}
        data = self._json(response) or {}
        if response.status_code == 200 and data.get("resourceType") == "CapabilityStatement":
            self._result("capability", "GET [base]/metadata returns a CapabilityStatement", "pass",
                         f"FHIR version {data.get('fhirVersion', '?')}")
            if data.get("fhirVersion") not in (None, "4.0.1", "4.0.0"):
                self._result("fhir-version", "The server is FHIR R4 (4.0.1)", "fail",
                             f"CapabilityStatement.fhirVersion is {data.get('fhirVersion')}")
        else:
            self._result("capability", "GET [base]/metadata returns a CapabilityStatement", "fail",
                         f"HTTP {response.status_code}")
        return data

    def _discover_patients(self) -> list[str]:
        ids: list[str] = []
        url: str | None = f"Patient?_count={min(self.max_patients, 100)}&_elements=id"
        while url and len(ids) < self.max_patients:
            bundle = self._json(self._get(url)) or {}
            ids += [str(e["resource"]["id"]) for e in bundle.get("entry") or []
                    if isinstance(e.get("resource"), dict) and e["resource"].get("id")]
            url = next((link.get("url") for link in bundle.get("link") or [] if link.get("relation") == "next"), None)
        return ids[: self.max_patients]

    def _read_patients(self, ids: list[str], sample: Sample) -> None:
        failures = []
        for pid in ids:
            response = self._get(f"Patient/{pid}")
            data = self._json(response)
            if response.status_code == 200 and data and data.get("resourceType") == "Patient" and data.get("id") == pid:
                sample.add(data, urljoin(self.base, f"Patient/{pid}"))
            else:
                failures.append(Failure(f"Patient/{pid}", None, f"read returned HTTP {response.status_code}"))
        self._result("read-patient", "Read Patient/[id] returns the patient", "fail" if failures else "pass",
                     f"{len(ids) - len(failures)} of {len(ids)} patients read", failures)

    def _search(self, resource_type: str, ids: list[str], sample: Sample) -> None:
        param = PATIENT_PARAM[resource_type]
        failures: list[Failure] = []
        found = 0
        for pid in ids:
            url: str | None = f"{resource_type}?{param}=Patient/{pid}&_count=100"
            pages = 0
            while url and pages < 1000:
                pages += 1
                response = self._get(url)
                bundle = self._json(response)
                if response.status_code != 200 or not bundle or bundle.get("type") != "searchset":
                    failures.append(Failure(f"Patient/{pid}", None,
                                            f"search {resource_type}?{param}= returned HTTP {response.status_code}"))
                    break
                for entry in bundle.get("entry") or []:
                    resource = entry.get("resource")
                    mode = (entry.get("search") or {}).get("mode", "match")
                    if isinstance(resource, dict) and mode == "match":
                        if resource.get("resourceType") != resource_type:
                            failures.append(Failure(f"{resource.get('resourceType')}/{resource.get('id')}", None,
                                                    f"returned by a {resource_type} search"))
                            continue
                        found += 1
                        sample.add(resource, entry.get("fullUrl") or urljoin(self.base, f"{resource_type}/{resource.get('id')}"))
                url = next((link.get("url") for link in bundle.get("link") or [] if link.get("relation") == "next"), None)
        self._result(f"search-{resource_type}", f"Search {resource_type} by patient ({param}=Patient/[id])",
                     "fail" if failures else "pass", f"{found} {resource_type} found", failures)

    def _read_references(self, sample: Sample) -> None:
        """Read the resources the sample references (Practitioner, Organization, Condition, ...) and what
        those reference in turn, up to REFERENCE_DEPTH hops, so reference integrity is judged on what the
        server actually resolves."""
        from .checks import references
        failures = []
        tried: set[str] = set()
        for _ in range(REFERENCE_DEPTH):
            wanted = sorted({target for item in sample.items for _, target in references(item.resource)
                             if target.count("/") == 1} - {i.key for i in sample.items} - tried)
            if not wanted:
                break
            tried.update(wanted)
            for key in wanted:
                response = self._get(key)
                data = self._json(response)
                if response.status_code == 200 and data and f"{data.get('resourceType')}/{data.get('id')}" == key:
                    sample.add(data, urljoin(self.base, key))
                elif response.status_code not in (404, 410):
                    failures.append(Failure(key, None, f"read returned HTTP {response.status_code}"))
        self._result("read-references", "Referenced resources can be read", "fail" if failures else "pass",
                     f"{len(tried)} referenced resources read", failures)

    # -- Bulk Data -----------------------------------------------------------------------------------
    def _bulk(self, capability: dict[str, Any], sample: Sample) -> None:
        title = "Bulk Data $export: kick-off, poll and download (Patient level)"
        operations = [op for rest in capability.get("rest") or [] for op in
                      (rest.get("operation") or []) + [o for r in rest.get("resource") or [] for o in r.get("operation") or []]]
        if not any(str(op.get("name", "")).lstrip("$") in ("export", "patient-export") for op in operations):
            self._result("bulk-export", title, "skip", "the CapabilityStatement lists no $export operation")
            return
        types = ",".join(("Patient",) + PROFILED_RESOURCES)
        try:
            kick = self.session.get(urljoin(self.base, f"Patient/$export?_type={types}"),
                                    headers={"Accept": "application/fhir+json", "Prefer": "respond-async",
                                             **self.auth.headers()}, timeout=self.timeout)
        except requests.RequestException as exc:
            self._result("bulk-export", title, "fail", f"kick-off failed: {type(exc).__name__}")
            return
        location = kick.headers.get("Content-Location")
        if kick.status_code != 202 or not location:
            self._result("bulk-export", title, "fail",
                         f"kick-off returned HTTP {kick.status_code} (expected 202 with Content-Location)")
            return
        waited = 0.0
        while True:
            poll = self._get(location)
            if poll.status_code == 200:
                break
            if poll.status_code != 202 or waited >= self.bulk_wait:
                self._result("bulk-export", title, "fail", f"status request returned HTTP {poll.status_code}"
                             + (" (gave up waiting)" if poll.status_code == 202 else ""))
                return
            try:   # Retry-After in seconds; an HTTP date or garbage means "a little later"
                delay = min(max(float(poll.headers.get("Retry-After", "2")), 0.0), 30.0)
            except ValueError:
                delay = 2.0
            self.sleep(delay)
            waited += delay
        manifest = self._json(poll) or {}
        files = 0
        for output in manifest.get("output") or []:
            url = output.get("url")
            if not url:
                continue
            headers = self.auth.headers() if manifest.get("requiresAccessToken") else {}
            data = self.session.get(url, headers={"Accept": "application/fhir+ndjson", **headers}, timeout=self.timeout)
            if data.status_code != 200:
                self._result("bulk-export", title, "fail", f"download of an output file returned HTTP {data.status_code}")
                return
            files += 1
            for n, line in enumerate(data.content.splitlines(), start=1):
                if line.strip():
                    try:
                        resource = orjson.loads(line)
                    except orjson.JSONDecodeError:
                        sample.problems.append(Failure("bulk", None, "output line is not JSON", f"{url}:{n}"))
                        continue
                    if isinstance(resource, dict):
                        sample.add(resource, f"{url}:{n}")
        self._result("bulk-export", title, "pass", f"{files} output files downloaded")

