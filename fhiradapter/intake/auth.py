"""Bearer access tokens (JWT) issued by the payer's authorization server.

Checked: signature against the JWKS (a URL, fetched and cached by PyJWT's PyJWKClient, or a file),
`iss`, `aud`, `exp` (with a small leeway), and the SMART v1/v2 system scopes the operation needs
(`system/Encounter.write`, `system/*.write`, `system/Encounter.cud`, …). The sender's organization is the
`org` claim (configurable); submissions are checked against it (see `org_issues`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from fhiradapter.outcome import Issue

from .config import AuthSettings

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384"]


class AuthFailure(Exception):
    """Why a request is refused: status 401 (no/invalid token) or 403 (valid token, not allowed)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str          # client id (sub) or "anonymous"
    organization: str     # "Organization/abc", or "" when unknown (no auth)
    scopes: frozenset[str]
    authenticated: bool

    def may(self, resource_type: str, access: str) -> bool:
        """access: "read" or "write". Unauthenticated (auth off, loopback) may do anything."""
        if not self.authenticated:
            return True
        v1 = "write" if access == "write" else "read"
        v2 = set("cud") if access == "write" else set("rs")
        for scope in self.scopes:
            context, _, rest = scope.partition("/")
            if context != "system":
                continue
            rtype, _, perm = rest.partition(".")
            if rtype not in ("*", resource_type):
                continue
            if perm in (v1, "*") or (perm and set(perm) <= set("cruds") and v2 <= set(perm)):
                return True
        return False


ANONYMOUS = Principal("anonymous", "", frozenset(), False)


class TokenVerifier:
    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        self._jwks_client: jwt.PyJWKClient | None = None
        self._keys: dict[str, Any] = {}
        if settings.jwks_url:
            self._jwks_client = jwt.PyJWKClient(settings.jwks_url, cache_keys=True, lifespan=300)
        else:
            try:
                data = json.loads(Path(settings.jwks_file).read_text(encoding="utf-8"))
                keyset = jwt.PyJWKSet.from_dict(data)
            except (OSError, ValueError, jwt.PyJWKError) as exc:
                raise ValueError(f"auth.jwks_file {settings.jwks_file}: not a readable JWKS ({exc})") from None
            self._keys = {k.key_id or "": k.key for k in keyset.keys}

    def _key(self, token: str) -> Any:
        if self._jwks_client is not None:
            try:
                return self._jwks_client.get_signing_key_from_jwt(token).key
            except jwt.PyJWKClientConnectionError:
                raise AuthFailure(503, "the authorization server's JWKS cannot be fetched") from None
            except jwt.PyJWKClientError as exc:
                raise AuthFailure(401, f"token signing key not found ({exc})") from None
        kid = jwt.get_unverified_header(token).get("kid") or ""
        key = self._keys.get(kid) or (next(iter(self._keys.values())) if len(self._keys) == 1 and not kid else None)
        if key is None:
            raise AuthFailure(401, "token signing key not found in the JWKS")
        return key

    def verify(self, authorization: str | None) -> Principal:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise AuthFailure(401, "a bearer access token is required (Authorization: Bearer …)")
        token = authorization[7:].strip()
        try:
            claims = jwt.decode(token, self._key(token), algorithms=ALGORITHMS, audience=self.settings.audience,
                                issuer=self.settings.issuer, leeway=self.settings.leeway_seconds,
                                options={"require": ["exp", "iss", "aud"]})
        except jwt.ExpiredSignatureError:
            raise AuthFailure(401, "access token expired") from None
        except jwt.InvalidAudienceError:
            raise AuthFailure(401, "access token not issued for this service (aud)") from None
        except jwt.InvalidIssuerError:
            raise AuthFailure(401, "access token from an unknown issuer (iss)") from None
        except jwt.PyJWTError as exc:
            raise AuthFailure(401, f"invalid access token ({type(exc).__name__})") from None
        scope = claims.get("scope") or ""
        scopes = frozenset(scope.split() if isinstance(scope, str) else [str(s) for s in scope])
        org = claims.get(self.settings.org_claim)
        organization = ""
        if isinstance(org, str) and org:
            organization = org if org.startswith("Organization/") else f"Organization/{org}"
        return Principal(str(claims.get("sub") or claims.get("client_id") or "unknown"), organization,
                         scopes, True)


def org_issues(principal: Principal, resources: list[tuple[dict[str, Any], str]],
               known_parents: dict[str, str]) -> list[Issue]:
    """The sender's organization (from the token) against who the resources say did the work.

    A resource is attributed to the organizations in its `meta.source` (`…Organization/id…`) and its
    performer / serviceProvider references. Each of those must be the sender or part of it
    (`Organization.partOf`, from Organizations in this Bundle or accepted earlier: `known_parents`).
    Resources attributed to nobody (a Patient, a payer's Organization) pass, but a submission must show
    the sender somewhere: attributed to it, or carrying its own Organization resource. So an agency
    cannot submit records in another agency's name. `resources`: (resource, FHIRPath root).
    """
    if not principal.authenticated:
        return []
    own = principal.organization
    if not own:
        return [Issue("error", "security", "the access token names no sending organization "
                      "(claim missing); the submission cannot be attributed")]
    parents = dict(known_parents)
    for resource, _ in resources:
        if resource.get("resourceType") == "Organization" and isinstance(resource.get("id"), str):
            parent = _reference(resource.get("partOf"))
            if parent:
                parents[f"Organization/{resource['id']}"] = parent

    def within(org: str) -> bool:
        seen: set[str] = set()
        while org and org not in seen:
            if org == own:
                return True
            seen.add(org)
            org = parents.get(org, "")
        return False

    issues: list[Issue] = []
    shows_sender = False
    for resource, expression in resources:
        if resource.get("resourceType") == "Organization" and within(f"Organization/{resource.get('id')}"):
            shows_sender = True
        named = _organizations(resource)
        outside = [org for org in named if not within(org)]
        if outside:
            issues.append(Issue("error", "forbidden", f"attributed to {outside[0]}, which is neither the sender "
                                f"{own} nor known to be part of it (Organization.partOf; send that Organization "
                                "first)", expression=expression))
        elif named:
            shows_sender = True
    if not shows_sender and not issues:
        issues.append(Issue("error", "security", f"no resource is attributed to the sending organization {own} "
                            "(meta.source, performer or serviceProvider) and none is its Organization",
                            expression=resources[0][1] if resources else None))
    return issues


_ORG_ELEMENTS = ("performer", "serviceProvider")


def parent_links(resources: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(Organization/id, Organization/parent) of the Organizations given, to remember once accepted."""
    links = []
    for resource in resources:
        if resource.get("resourceType") == "Organization" and isinstance(resource.get("id"), str):
            parent = _reference(resource.get("partOf"))
            if parent:
                links.append((f"Organization/{resource['id']}", parent))
    return links


def _reference(node: Any) -> str:
    ref = node.get("reference") if isinstance(node, dict) else None
    return ref.split("/_history")[0] if isinstance(ref, str) and ref.startswith("Organization/") else ""


def _organizations(resource: dict[str, Any]) -> list[str]:
    found: list[str] = []
    meta = resource.get("meta")
    source = meta.get("source") if isinstance(meta, dict) else None
    if isinstance(source, str) and "Organization/" in source:
        tail = source.split("Organization/", 1)[1]
        org_id = "".join(ch for ch in tail if ch.isalnum() or ch in "-.")
        if org_id:
            found.append(f"Organization/{org_id}")
    for name in _ORG_ELEMENTS:
        for ref in _references(resource.get(name)):
            if ref.startswith("Organization/"):
                found.append(ref.split("/_history")[0])
    return found


def _references(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["reference"]] if isinstance(node.get("reference"), str) else []
        return own + [r for value in node.values() for r in _references(value)]
    if isinstance(node, list):
        return [r for value in node for r in _references(value)]
    return []
