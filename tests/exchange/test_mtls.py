"""Mutual TLS and certificate verification against a loopback HTTPS endpoint with its own CA."""
from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from fhiradapter.cli import cli

from .builders import members_out


def _cert(subject: str, key, issuer_name, issuer_key, *, ca: bool, san_ip: str | None = None):
    now = dt.datetime.now(dt.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(issuer_name).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if san_ip:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(san_ip))]),
                                        critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, cert=None, key=None) -> Path:
    data = b""
    if cert is not None:
        data += cert.public_bytes(serialization.Encoding.PEM)
    if key is not None:
        data += key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
    path.write_bytes(data)
    return path


@pytest.fixture
def tls_endpoint(tmp_path):
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = _cert("test CA", ca_key, ca_name, ca_key, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = _cert("127.0.0.1", server_key, ca_name, ca_key, ca=False, san_ip="127.0.0.1")
    client_key = ec.generate_private_key(ec.SECP256R1())
    client_cert = _cert("agency-client", client_key, ca_name, ca_key, ca=False)
    files = {
        "ca": _write(tmp_path / "ca.pem", ca),
        "server_cert": _write(tmp_path / "server.pem", server_cert),
        "server_key": _write(tmp_path / "server.key", key=server_key),
        "client_cert": _write(tmp_path / "client.pem", client_cert),
        "client_key": _write(tmp_path / "client.key", key=client_key),
    }
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            return None

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append(self.connection.getpeercert()["subject"][0][0][1])
            payload = json.dumps({"resourceType": "Bundle", "type": "transaction-response",
                                  "entry": [{"response": {"status": "201 Created"}} for _ in body["entry"]]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files["server_cert"], files["server_key"])
    context.load_verify_locations(files["ca"])
    context.verify_mode = ssl.CERT_REQUIRED  # mutual TLS: no client certificate, no connection
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{httpd.server_address[1]}/fhir", files, seen
    finally:
        httpd.shutdown()
        httpd.server_close()


def _send(endpoint, out, *extra):
    return CliRunner().invoke(cli, ["send", "--endpoint", endpoint, "--max-attempts", "1", *extra, str(out)])


def test_mutual_tls_delivers(tls_endpoint, tmp_path):
    endpoint, files, seen = tls_endpoint
    out = members_out(tmp_path / "out", 1)
    result = _send(endpoint, out, "--ca-bundle", str(files["ca"]), "--cert", str(files["client_cert"]),
                   "--key", str(files["client_key"]))
    assert result.exit_code == 0, result.output
    assert seen == ["agency-client"]


def test_without_client_certificate_nothing_is_delivered(tls_endpoint, tmp_path):
    endpoint, files, seen = tls_endpoint
    out = members_out(tmp_path / "out", 1)
    result = _send(endpoint, out, "--ca-bundle", str(files["ca"]))
    assert result.exit_code == 1 and "1 failed" in result.output and seen == []


def test_server_certificate_is_verified(tls_endpoint, tmp_path):
    endpoint, files, seen = tls_endpoint
    out = members_out(tmp_path / "out", 1)
    # Without our CA the server's certificate is untrusted: the client refuses to talk.
    result = _send(endpoint, out, "--cert", str(files["client_cert"]), "--key", str(files["client_key"]))
    assert result.exit_code == 1 and seen == []
