"""`serve` over TLS with a certificate and key, and the warning for plain HTTP off loopback.

The certificate is self-signed, made here with `cryptography`; the phone trusts it the
documented way (README, Deploying): SSL_CERT_FILE naming it, which httpx reads.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from fieldapp.store import RecordStore
from fieldapp.sync import enrollment
from fieldapp.sync.session import run_pass
from tests.conftest import free_port
from tests.records_factory import call_data
from tests.server.conftest import Server

ROOT = Path(__file__).resolve().parents[2]


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fieldapp test server")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "sync.server.cli", "serve", *args], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)


def stop(proc: subprocess.Popen) -> str:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        return proc.communicate(timeout=20)[1]
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        return proc.communicate()[1]


def wait_for(url: str, proc: subprocess.Popen, **client) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server stopped at start-up: " + (proc.stderr.read() if proc.stderr else "")[-2000:])
        try:
            httpx.get(url + "/api/v1/health", timeout=0.5, **client)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("server did not start within 30 s")


@pytest.fixture
def tls_server(tmp_path):
    cert, key = self_signed(tmp_path)
    port = free_port()
    url = f"sqlite:///{tmp_path / 'server.db'}"
    proc = start("--port", str(port), "--database", url, "--ssl-certfile", str(cert), "--ssl-keyfile", str(key))
    wait_for(f"https://127.0.0.1:{port}", proc, verify=ssl.create_default_context(cafile=str(cert)))
    yield f"https://127.0.0.1:{port}", cert, Server(url, port)
    stop(proc)


def test_serve_with_a_certificate_answers_https_and_only_https(tls_server):
    address, cert, _ = tls_server
    trusting = ssl.create_default_context(cafile=str(cert))
    assert httpx.get(address + "/api/v1/health", verify=trusting).status_code == 200
    with pytest.raises(httpx.ConnectError):  # not trusted without the certificate
        httpx.get(address + "/api/v1/health")
    with pytest.raises(httpx.HTTPError):  # no plain HTTP on the port
        httpx.get(address.replace("https://", "http://") + "/api/v1/health")


def test_a_phone_enrolled_with_the_https_address_syncs_through_it(tls_server, tmp_path, monkeypatch):
    address, cert, server = tls_server
    folder = tmp_path / "phone"
    store = RecordStore.open(folder)
    enrollment.save(folder, enrollment.Enrollment(address, server.enroll("team-tls", store.device_id)))
    made = store.create_call(call_data(notes="over TLS"))
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    untrusted = run_pass(store, folder)
    assert untrusted.error is not None and store.get(made["id"]).state != "sent"
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the documented way to trust the server's certificate
    result = run_pass(store, folder)
    assert result.error is None and result.push.sent == 1
    assert store.get(made["id"]).state == "sent"
    lead = server.enroll("team-tls", "lead-tls", "lead")
    summary = httpx.get(address + "/api/v1/summary", params={"day": "2026-11-25"},
                        headers={"Authorization": f"Bearer {lead}"}, verify=ssl.create_default_context(cafile=str(cert)))
    assert summary.status_code == 200 and summary.json()["chain_head"]["seq"] == 1


def test_plain_http_off_loopback_warns_at_start_and_on_loopback_does_not(tmp_path):
    for host, warned in (("0.0.0.0", True), ("127.0.0.1", False)):
        port = free_port()
        proc = start("--host", host, "--port", str(port), "--database", f"sqlite:///{tmp_path / 'w.db'}")
        try:
            wait_for(f"http://127.0.0.1:{port}", proc)
        finally:
            err = stop(proc)
        warning = [line for line in err.splitlines() if "warning" in line and "plain HTTP" in line]
        assert bool(warning) == warned, err
        if warned:
            assert "--ssl-certfile" in warning[0] and host in warning[0]
