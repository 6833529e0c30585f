"""Upstream TLS over real loopback sockets: the gateway in front of an HTTPS upstream that
requires a client certificate, as the SNE's web services do (mutual TLS).

The certificates are throwaway ones, made once per module with the `openssl` command line in a
temporary directory: a CA, a server certificate for 127.0.0.1 and a client certificate signed
by it, and a second CA that signs neither (the wrong bundle).
"""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from gateway.config import Settings
from tests.servers import RunningServer, gateway_settings, serve_asgi, serve_gateway
from tests.upstream import Answer, ScriptedUpstream

OPENSSL = shutil.which("openssl")

#: Extensions of the throwaway certificates, close to what a real PKI issues (Python's
#: strict X.509 checks want the key identifiers and a critical basicConstraints on the CA).
OPENSSL_CONFIG = """\
[req]
distinguished_name = dn
prompt = no

[dn]
CN = unused

[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
"""


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    #: A CA that signs neither certificate.
    other_ca: Path


def _openssl(directory: Path, *arguments: str) -> None:
    assert OPENSSL is not None
    done = subprocess.run(
        [OPENSSL, *arguments], cwd=directory, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(arguments)} failed:\n{done.stderr}")


def _key(directory: Path, name: str) -> Path:
    _openssl(
        directory,
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        f"{name}.key",
    )
    return directory / f"{name}.key"


def _ca(directory: Path, name: str) -> tuple[Path, Path]:
    key = _key(directory, name)
    _openssl(
        directory,
        "req",
        "-x509",
        "-new",
        "-config",
        "openssl.cnf",
        "-extensions",
        "ca",
        "-key",
        key.name,
        "-subj",
        f"/CN=sne-gateway test {name}",
        "-days",
        "2",
        "-out",
        f"{name}.pem",
    )
    return directory / f"{name}.pem", key


def _leaf(directory: Path, name: str, subject: str, ca: tuple[Path, Path]) -> tuple[Path, Path]:
    key = _key(directory, name)
    _openssl(
        directory,
        "req",
        "-new",
        "-config",
        "openssl.cnf",
        "-key",
        key.name,
        "-subj",
        subject,
        "-out",
        f"{name}.csr",
    )
    _openssl(
        directory,
        "x509",
        "-req",
        "-in",
        f"{name}.csr",
        "-CA",
        ca[0].name,
        "-CAkey",
        ca[1].name,
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "openssl.cnf",
        "-extensions",
        name,
        "-out",
        f"{name}.pem",
    )
    return directory / f"{name}.pem", key


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    if OPENSSL is None:
        pytest.skip(
            "the openssl command line is not installed: these tests need it to make their "
            "throwaway CA and certificates"
        )
    directory = tmp_path_factory.mktemp("pki")
    (directory / "openssl.cnf").write_text(OPENSSL_CONFIG, encoding="ascii")
    ca = _ca(directory, "ca")
    server = _leaf(directory, "server", "/CN=127.0.0.1", ca)
    client = _leaf(directory, "client", "/CN=sne-gateway test client", ca)
    other_ca, _ = _ca(directory, "other-ca")
    return Pki(ca[0], server[0], server[1], client[0], client[1], other_ca)


@pytest.fixture(scope="module")
def upstream(pki: Pki) -> Iterator[tuple[ScriptedUpstream, str]]:
    """The scripted upstream over HTTPS, refusing any client without a certificate of the CA."""
    scripted = ScriptedUpstream()
    with serve_asgi(
        scripted,
        ssl_certfile=str(pki.server_cert),
        ssl_keyfile=str(pki.server_key),
        ssl_ca_certs=str(pki.ca),
        ssl_cert_reqs=ssl.CERT_REQUIRED,
    ) as running:
        yield scripted, f"https://127.0.0.1:{running.port}"


@pytest.fixture(autouse=True)
def clean(upstream: tuple[ScriptedUpstream, str]) -> None:
    scripted, _ = upstream
    scripted.received.clear()
    scripted.answers.clear()
    scripted.answer("/v1.0/ping", Answer(200, "text/plain", b"pong over mutual TLS"))


def tls_settings(tmp_path: Path, upstream: str, **tls: Path | bool) -> Settings:
    """Gateway settings pointed at `upstream` with a `[gateway.tls]` table of `tls`."""
    lines = ["[gateway.tls]"]
    for key, value in tls.items():
        shown = json.dumps(str(value)) if isinstance(value, Path) else str(value).lower()
        lines.append(f"{key} = {shown}")
    config = tmp_path / "gateway.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return gateway_settings(upstream, config=config, connect_timeout="5", read_timeout="10")


def ping(gateway: RunningServer) -> httpx.Response:
    return httpx.post(
        gateway.url + "/v1.0/ping",
        content=b"ping",
        headers={"content-type": "text/plain"},
        timeout=30,
    )


def assert_unreachable(response: httpx.Response) -> None:
    assert response.status_code == 502, response.text
    assert response.headers["content-type"].startswith("application/xml")
    assert b'code="GTW03"' in response.content
    assert b"upstream.unreachable" in response.content


def test_mutual_tls_forwards_and_answers(tmp_path: Path, pki: Pki, upstream) -> None:
    scripted, url = upstream
    settings = tls_settings(
        tmp_path, url, ca_bundle=pki.ca, client_cert=pki.client_cert, client_key=pki.client_key
    )
    with serve_gateway(settings) as gateway:
        response = ping(gateway)
    assert response.status_code == 200, response.text
    assert response.content == b"pong over mutual TLS"
    assert [(r.method, r.path, r.body) for r in scripted.received] == [
        ("POST", "/v1.0/ping", b"ping")
    ]


def test_without_a_client_certificate_the_handshake_fails_with_a_502(
    tmp_path: Path, pki: Pki, upstream
) -> None:
    scripted, url = upstream
    with serve_gateway(tls_settings(tmp_path, url, ca_bundle=pki.ca)) as gateway:
        response = ping(gateway)
    # In TLS 1.3 the server checks the client's certificate once the client has finished the
    # handshake and sent its request, then hangs up: to the gateway, an upstream that closed
    # the connection without answering, which may have processed the request.
    assert response.status_code == 502, response.text
    assert b'code="GTW07"' in response.content
    assert b"closed the connection without answering" in response.content
    assert scripted.received == []


def test_a_ca_bundle_that_does_not_sign_the_server_is_a_502(
    tmp_path: Path, pki: Pki, upstream
) -> None:
    scripted, url = upstream
    settings = tls_settings(
        tmp_path,
        url,
        ca_bundle=pki.other_ca,
        client_cert=pki.client_cert,
        client_key=pki.client_key,
    )
    with serve_gateway(settings) as gateway:
        response = ping(gateway)
    assert_unreachable(response)
    assert scripted.received == []


def test_verify_false_still_presents_the_client_certificate(
    tmp_path: Path, pki: Pki, upstream
) -> None:
    # `verify = false` trusts any upstream certificate: for école (a test platform) only, never
    # in recette or prod. The client certificate must still be presented, or mutual TLS fails.
    scripted, url = upstream
    settings = tls_settings(
        tmp_path, url, verify=False, client_cert=pki.client_cert, client_key=pki.client_key
    )
    with serve_gateway(settings) as gateway:
        response = ping(gateway)
    assert response.status_code == 200, response.text
    assert response.content == b"pong over mutual TLS"
    assert [r.path for r in scripted.received] == ["/v1.0/ping"]
