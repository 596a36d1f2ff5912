"""Checking the server's certificate and key before ``steward serve`` listens."""

from __future__ import annotations

from pathlib import Path

import pytest
import trustme
from cryptography.hazmat.primitives import serialization
from serving import Tls, make_tls

from steward.api.tls import TlsFiles, TlsProblem, tls_files


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return make_tls(tmp_path_factory.mktemp("tls"))


def _problem(cert: object, key: object) -> str:
    with pytest.raises(TlsProblem) as caught:
        tls_files(cert, key)  # type: ignore[arg-type]
    return caught.value.message


def test_a_matching_pair_is_handed_to_uvicorn(tls: Tls):
    files = tls_files(str(tls.cert), tls.key)
    assert files == TlsFiles(tls.cert, tls.key)
    assert files.uvicorn_options() == {"ssl_certfile": str(tls.cert),
                                       "ssl_keyfile": str(tls.key)}


def test_neither_file_means_plain_http():
    assert tls_files(None, None) is None
    assert tls_files("", "  ") is None


def test_one_without_the_other_is_refused(tls: Tls):
    assert _problem(tls.cert, None) == ("--tls-cert needs --tls-key too (the certificate's "
                                        "private key, PEM)")
    assert _problem("", tls.key) == "--tls-key needs --tls-cert too (the certificate, PEM)"


def test_missing_or_unreadable_files_are_named(tls: Tls, tmp_path: Path):
    missing = tmp_path / "nowhere.pem"
    assert _problem(missing, tls.key) == f"--tls-cert: no such file: {missing}"
    assert _problem(tls.cert, missing) == f"--tls-key: no such file: {missing}"
    assert _problem(tmp_path, tls.key) == f"--tls-cert: {tmp_path} is a folder, not a file"


def test_files_of_the_wrong_kind_are_named(tls: Tls, tmp_path: Path):
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    assert _problem(junk, tls.key) == (f"--tls-cert: {junk} holds no PEM certificate "
                                       "(-----BEGIN CERTIFICATE-----)")
    # The key given as the certificate, and the certificate as the key.
    assert "holds no PEM certificate" in _problem(tls.key, tls.key)
    assert _problem(tls.cert, tls.cert) == (f"--tls-key: {tls.cert} holds no PEM private key "
                                            "(-----BEGIN PRIVATE KEY-----)")
    assert _problem(tls.cert, junk).startswith(f"--tls-key: {junk} holds no PEM private key")


def test_a_key_of_another_certificate_is_refused(tls: Tls, tmp_path: Path):
    other = tmp_path / "other.key"
    trustme.CA().issue_cert("127.0.0.1").private_key_pem.write_to_path(str(other))
    assert _problem(tls.cert, other) == (f"--tls-key: the key in {other} does not match the "
                                         f"certificate in {tls.cert}")


def test_an_encrypted_key_is_refused_rather_than_prompted_for(tls: Tls, tmp_path: Path):
    encrypted = tmp_path / "encrypted.key"
    key = serialization.load_pem_private_key(tls.key.read_bytes(), password=None)
    encrypted.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret")))
    assert _problem(tls.cert, encrypted) == (
        f"--tls-key: {encrypted} is encrypted with a passphrase; give Steward the key "
        "unencrypted, in a file only its user can read")
