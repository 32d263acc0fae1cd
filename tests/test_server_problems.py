"""The app says what a server problem is, in the user's language.

A real sync pass (the worker's, on a real store) against: a real server that
does not know the device's token; an address where nothing listens; a real TLS
listener whose certificate the phone does not trust. The badge then says which
of the three it is, in English and in Arabic, never only "Server problem".
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
from pathlib import Path

import pytest

from fieldapp.i18n import Translator
from fieldapp.store import RecordStore
from fieldapp.sync import enrollment
from fieldapp.sync.worker import SyncWorker
from fieldapp.ui.state import AppState
from tests import aio
from tests.conftest import free_port
from tests.records_factory import call_data
from tests.server.conftest import Server

NOW = dt.datetime(2026, 11, 25, 9, 12, tzinfo=dt.UTC)


def _badge_after_a_pass(folder: Path, server_url: str, token: str) -> dict[str, str]:
    """One real pass of the worker with one call waiting; the badge in each language."""
    store = RecordStore.open(folder)
    try:
        store.create_call(call_data())
        enrollment.save(folder, enrollment.Enrollment(server_url, token))
        worker = SyncWorker(store, folder)
        aio.run(worker.run_once())
        badges = {}
        for language in ("en", "ar"):
            state = AppState(store, folder, worker=worker, now=lambda: NOW)
            state.t = Translator(language)
            badges[language] = state.badge()
        return badges
    finally:
        store.close()


def test_an_unknown_token_is_named_as_such(tmp_path):
    server = Server(f"sqlite:///{tmp_path / 'server.db'}").start()
    try:
        badges = _badge_after_a_pass(tmp_path / "device", server.url, "a-token-the-server-never-issued")
    finally:
        server.kill()
    for language, badge in badges.items():
        t = Translator(language)
        assert badge == t("badge.error", problem=t("server.token"), n=1), badges


def test_an_address_where_nothing_answers_is_named_as_such(tmp_path):
    badges = _badge_after_a_pass(tmp_path / "device", f"http://127.0.0.1:{free_port()}", "token")
    for language, badge in badges.items():
        t = Translator(language)
        assert badge == t("badge.unreachable", time=_local_hm(badge), n=1), badges


def _local_hm(badge: str) -> str:
    import re

    return re.search(r"\d\d:\d\d", badge).group(0)  # the time of the pass, in the phone's zone


@pytest.fixture
def untrusted_tls(tmp_path):
    """A real TLS listener on loopback with a self-signed certificate the phone does not trust."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            try:
                with context.wrap_socket(conn, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                pass  # the phone refused the certificate: what this stands for

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(timeout=5)
    listener.close()


def test_a_refused_tls_certificate_is_named_as_such(tmp_path, untrusted_tls):
    badges = _badge_after_a_pass(tmp_path / "device", untrusted_tls, "token")
    for language, badge in badges.items():
        t = Translator(language)
        assert badge == t("badge.error", problem=t("server.certificate"), n=1), badges
