"""Auth: SMART Backend Services assertions and token caching, bearer tokens, and secrets kept out of
argv, output and the journal."""
from __future__ import annotations

import json
import time
from urllib.parse import parse_qs

import jwt
import pytest
import responses
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from fhiradapter.cli import cli
from fhiradapter.exchange.auth import AuthError, SmartBackendAuth, read_secret
from fhiradapter.exchange.client import FhirClient
from fhiradapter.exchange.journal import Journal
from fhiradapter.exchange.sender import Sender

from .builders import fhir_calls, members_out

BASE = "https://payer.example/fhir"
TOKEN_URL = "https://auth.payer.example/token"
SECRET = "s3cr3t-token-value-do-not-leak"


def _keys(alg: str) -> tuple[str, object]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048) if alg == "RS384" \
        else ec.generate_private_key(ec.SECP384R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return pem, key.public_key()


def _ok_bundle(request) -> tuple[int, dict, str]:
    body = json.loads(request.body)
    return 200, {}, json.dumps({"resourceType": "Bundle", "type": "transaction-response",
                                "entry": [{"response": {"status": "201 Created"}} for _ in body["entry"]]})


@pytest.mark.parametrize("alg", ["RS384", "ES384"])
def test_smart_assertion_claims(alg):
    pem, public = _keys(alg)
    now = [time.time()]
    auth = SmartBackendAuth(client_id="agency-7", token_url=TOKEN_URL, private_key_pem=pem, key_id="k1",
                            alg=alg, clock=lambda: now[0])
    first, second = auth.assertion(), auth.assertion()
    header = jwt.get_unverified_header(first)
    assert header["alg"] == alg and header["kid"] == "k1"
    claims = jwt.decode(first, public, algorithms=[alg], audience=TOKEN_URL,
                        options={"verify_exp": False})
    assert claims["iss"] == claims["sub"] == "agency-7"
    assert 0 < claims["exp"] - now[0] <= 300
    other = jwt.decode(second, public, algorithms=[alg], audience=TOKEN_URL, options={"verify_exp": False})
    assert claims["jti"] != other["jti"]


def test_smart_refuses_wrong_key_for_alg():
    pem, _ = _keys("RS384")
    with pytest.raises(AuthError, match="ES384"):
        SmartBackendAuth(client_id="a", token_url=TOKEN_URL, private_key_pem=pem, key_id=None, alg="ES384")


@responses.activate
def test_smart_token_cached_until_expiry_and_refreshed_on_401(tmp_path):
    pem, _ = _keys("RS384")
    now = [time.time()]
    tokens = iter(["tok-1", "tok-2", "tok-3"])

    def token_endpoint(request):
        form = parse_qs(request.body)
        assert form["grant_type"] == ["client_credentials"]
        assert form["client_assertion_type"] == ["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"]
        assert form["scope"] == ["system/*.write"]
        return 200, {}, json.dumps({"access_token": next(tokens), "token_type": "bearer", "expires_in": 300})

    responses.add_callback(responses.POST, TOKEN_URL, callback=token_endpoint)
    seen: list[str] = []

    def fhir(request):
        seen.append(request.headers["Authorization"])
        if len(seen) == 3:
            return 401, {}, ""
        return _ok_bundle(request)

    responses.add_callback(responses.POST, BASE, callback=fhir)
    auth = SmartBackendAuth(client_id="agency-7", token_url=TOKEN_URL, private_key_pem=pem, key_id="k1",
                            clock=lambda: now[0])
    out = members_out(tmp_path / "out", 2)
    journal = Journal(out / "outbox.sqlite")
    sender = Sender(FhirClient(BASE, auth=auth), journal)
    assert sender.run([out]).delivered == 2
    assert seen == ["Bearer tok-1", "Bearer tok-1"]  # one token for both Bundles
    now[0] += 301  # expired: the next request fetches a new token
    members_out(out, 3)
    assert sender.run([out]).delivered == 1
    # 3rd request: 401 with tok-2 → invalidated, tok-3 fetched, same Bundle resent at once
    assert seen[2:] == ["Bearer tok-2", "Bearer tok-3"]
    assert len([c for c in fhir_calls() if c.request.url == TOKEN_URL]) == 3


def test_read_secret_names_source_not_value(tmp_path, monkeypatch):
    monkeypatch.delenv("NO_SUCH_TOKEN_VAR", raising=False)
    with pytest.raises(AuthError, match="NO_SUCH_TOKEN_VAR"):
        read_secret(env="NO_SUCH_TOKEN_VAR")
    (tmp_path / "tok").write_text(SECRET + "\n")
    assert read_secret(file=tmp_path / "tok") == SECRET


@responses.activate
def test_bearer_from_env_never_reaches_output_or_journal(tmp_path, monkeypatch):
    monkeypatch.setenv("PAYER_TOKEN", SECRET)
    headers: list[str] = []

    def fhir(request):
        headers.append(request.headers["Authorization"])
        return _ok_bundle(request)

    responses.add_callback(responses.POST, BASE, callback=fhir)
    out = members_out(tmp_path / "out", 2)
    result = CliRunner().invoke(cli, ["send", "--endpoint", BASE, "--auth", "bearer", "--token-env",
                                      "PAYER_TOKEN", "-v", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert headers == [f"Bearer {SECRET}"] * 2
    assert SECRET not in result.output
    for path in out.glob("outbox.sqlite*"):
        assert SECRET.encode() not in path.read_bytes()


@responses.activate
def test_bearer_from_file(tmp_path):
    (tmp_path / "token").write_text(SECRET + "\n# issued 2026-11-01 by the payer portal\n")
    responses.add_callback(responses.POST, BASE, callback=_ok_bundle)
    out = members_out(tmp_path / "out", 1)
    result = CliRunner().invoke(cli, ["send", "--endpoint", BASE, "--auth", "bearer", "--token-file",
                                      str(tmp_path / "token"), str(out)])
    assert result.exit_code == 0, result.output
    assert fhir_calls()[0].request.headers["Authorization"] == f"Bearer {SECRET}"


@pytest.mark.parametrize("args, message", [
    (["--auth", "bearer"], "exactly one of --token-env"),
    (["--auth", "bearer", "--token-env", "UNSET_VAR_FOR_TEST"], "UNSET_VAR_FOR_TEST is not set"),
    (["--auth", "smart", "--client-id", "x"], "--token-url, --key-file"),
    (["--cert", "/nonexistent/cert.pem"], "--cert: /nonexistent/cert.pem"),
    (["--key", __file__], "--key needs --cert"),
])
def test_auth_usage_errors_exit_2_with_clear_message(tmp_path, args, message, monkeypatch):
    monkeypatch.delenv("UNSET_VAR_FOR_TEST", raising=False)
    out = members_out(tmp_path / "out", 1)
    result = CliRunner().invoke(cli, ["send", "--endpoint", BASE, *args, str(out)])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


@responses.activate
def test_refused_credentials_stop_the_run_and_nothing_is_sent(tmp_path):
    pem, _ = _keys("RS384")
    (tmp_path / "key.pem").write_text(pem)
    responses.post(TOKEN_URL, json={"error": "invalid_client"}, status=401)
    out = members_out(tmp_path / "out", 2)
    result = CliRunner().invoke(cli, ["send", "--endpoint", BASE, "--auth", "smart", "--client-id", "agency-7",
                                      "--token-url", TOKEN_URL, "--key-file", str(tmp_path / "key.pem"),
                                      "--key-id", "k1", str(out)])
    assert result.exit_code == 2
    assert "token endpoint answered 401 invalid_client" in result.output
    assert [c.request.url for c in fhir_calls()] == [TOKEN_URL]  # one try, no FHIR request
    with Journal(out / "outbox.sqlite") as journal:
        [row] = journal.rows()  # the run stopped at the first Bundle
        assert row.state == "pending" and "authentication" in row.last_error
        assert pem.splitlines()[1] not in (out / "outbox.sqlite").read_text(errors="ignore")
