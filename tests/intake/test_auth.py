"""Bearer JWTs from a local token issuer (its JWKS as a file and at a URL): expired, wrong audience,
wrong scope, another organization, a token signed by someone else; /metadata stays open; the service
refuses a public interface without auth."""
from __future__ import annotations

import copy
import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fhir_server_fixtures import FhirServer

from .conftest import Example, Issuer, Service, StartService, cli, free_port

AGENCY = "Organization/e373a3f4-24b5-50ab-a28a-b268818eaa55"   # the mt-cmp example's agency (mapped id of mt-cmp|YP-ORG-1)


@pytest.fixture
def secured(start_service: StartService, issuer: Issuer, server: FhirServer) -> Service:
    return start_service({"auth": issuer.settings(), "upstream": {"url": server.base}})


def _text(response: Any) -> str:
    return " ".join(i["details"]["text"] for i in response.json()["issue"])


def test_metadata_is_open_and_describes_auth(secured: Service, issuer: Issuer) -> None:
    response = secured.get("/metadata")
    assert response.status_code == 200
    security = response.json()["rest"][0]["security"]
    assert security["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"
    assert issuer.issuer in security["description"]


@pytest.mark.parametrize("make,status,text", [
    (lambda i: None, 401, "a bearer access token is required"),
    (lambda i: i.token(org=AGENCY, exp_in=-120), 401, "access token expired"),
    (lambda i: i.token(org=AGENCY, aud="https://someone-else.test"), 401, "not issued for this service"),
    (lambda i: i.token(org=AGENCY, iss="https://evil.test"), 401, "unknown issuer"),
    (lambda i: i.token(org=AGENCY, key=rsa.generate_private_key(public_exponent=65537, key_size=2048)),
     401, "invalid access token"),
    (lambda i: i.token(org=AGENCY, scope="system/Patient.read"), 403, "lacks write scope"),
])
def test_bad_tokens_are_refused(secured: Service, issuer: Issuer, example: Example, server: FhirServer,
                                make: Any, status: int, text: str) -> None:
    token = make(issuer)
    response = secured.post("/", example.shared, token=token)
    assert response.status_code == status
    assert text in _text(response)
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert server.counts().get("Organization", 0) == 0
    assert secured.get("/submissions", token).status_code in (200, 401)


def test_scoped_sender_submits_and_sees_only_its_own(secured: Service, issuer: Issuer, example: Example,
                                                      server: FhirServer) -> None:
    # a write scope on exactly the types the two Bundles hold (Patient in the SMART v2 .cud form)
    types = sorted({e["resource"]["resourceType"] for b in (example.shared, example.members[0]) for e in b["entry"]})
    token = issuer.token(org=AGENCY, scope=" ".join("system/Patient.cud" if t == "Patient" else f"system/{t}.write"
                                                    for t in types))
    shared = secured.post("/", example.shared, token=token, headers={"X-Request-Id": "s"})
    assert shared.status_code == 200, shared.text
    member = secured.post("/", example.members[0], token=token, headers={"X-Request-Id": "m"})
    assert member.status_code == 200, member.text
    assert server.counts()["Patient"] == 1
    mine = secured.get("/submissions", token).json()
    assert mine["total"] == 2 and {s["sender"] for s in mine["submissions"]} == {AGENCY}
    other = issuer.token(org="Organization/another-agency")
    assert secured.get("/submissions", other).json()["total"] == 0
    assert secured.get(f"/submissions/{mine['submissions'][0]['id']}", other).status_code == 404
    # $validate needs a scope on the type, read or write
    encounter = next(e["resource"] for e in example.members[0]["entry"] if e["resource"]["resourceType"] == "Encounter")
    assert secured.post("/Encounter/$validate", encounter, token=token).status_code == 200
    response = secured.post("/Encounter/$validate", encounter, token=issuer.token(scope="system/Patient.read"))
    assert response.status_code == 403


def test_records_of_another_organization_are_refused(secured: Service, issuer: Issuer, example: Example,
                                                      server: FhirServer) -> None:
    ours = issuer.token(org=AGENCY)
    assert secured.post("/", example.shared, token=ours).status_code == 200
    # another agency's token submitting this agency's records
    theirs = issuer.token(org="Organization/another-agency")
    response = secured.post("/", example.members[0], token=theirs)
    assert response.status_code == 403
    assert "neither the sender Organization/another-agency nor known to be part of it" in _text(response)
    assert all(i["expression"][0].startswith("Bundle.entry[") for i in response.json()["issue"])
    assert server.counts().get("Patient", 0) == 0
    # a token without the organization claim cannot submit at all
    response = secured.post("/", example.members[0], token=issuer.token(org=None))
    assert response.status_code == 403 and "names no sending organization" in _text(response)
    # the team (part of the agency, learned from the shared Bundle) makes the agency's records acceptable
    bundle = copy.deepcopy(example.members[0])
    assert secured.post("/", bundle, token=ours).status_code == 200


@pytest.fixture
def jwks_url(issuer: Issuer) -> Iterator[str]:
    body = issuer.jwks_file.read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/.well-known/jwks.json"
    httpd.shutdown()


def test_jwks_from_a_url(start_service: StartService, issuer: Issuer, jwks_url: str, example: Example) -> None:
    service = start_service({"auth": {"jwks_url": jwks_url, "issuer": issuer.issuer, "audience": issuer.audience}})
    encounter = next(e["resource"] for e in example.members[0]["entry"] if e["resource"]["resourceType"] == "Encounter")
    assert service.post("/$validate", encounter, token=issuer.token()).status_code == 200
    assert service.post("/$validate", encounter, token=issuer.token(exp_in=-100)).status_code == 401


def test_refuses_a_public_interface_without_auth(tmp_path: Any) -> None:
    result = cli("serve", "--host", "0.0.0.0", "--port", str(free_port()), "--data-dir", str(tmp_path / "d"),
                 timeout=60)
    assert result.returncode == 2
    assert "refusing to listen on a non-loopback interface without auth" in result.stderr
