"""rediss:// against a private TLS server with a throwaway CA, as an ACL user whose keys are
restricted to the saver's prefix (``~<prefix>*``): the saver needs no other permission."""

from __future__ import annotations

import datetime
import ipaddress
import operator
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from langgraph.graph import END, START, StateGraph
from redis.exceptions import ConnectionError, NoPermissionError
from typing_extensions import TypedDict

from aredis_ckpt import AsyncRedisSaver, RedisSaver
from aredis_ckpt._server import RedisServer

pytestmark = pytest.mark.standalone

USER, PASSWORD, PREFIX = "ckpt", "tls-acl-password", "tenant-a"


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name | None,
    issuer_key: ec.EllipticCurvePrivateKey | None,
    ca: bool,
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer or name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        # Python 3.13 verifies strictly (VERIFY_X509_STRICT): key identifiers are required
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key((issuer_key or key).public_key()),
            critical=False,
        )
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=not ca,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
    return builder.sign(issuer_key or key, hashes.SHA256())


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    path.chmod(0o600)
    return str(path)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    d = tmp_path_factory.mktemp("tls")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("aredis-ckpt test CA", ca_key, None, None, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _cert("127.0.0.1", key, ca.subject, ca_key, ca=False)
    pem = serialization.Encoding.PEM
    files = {
        "ca": _write(d / "ca.pem", ca.public_bytes(pem)),
        "cert": _write(d / "server.pem", cert.public_bytes(pem)),
        "key": _write(
            d / "server.key",
            key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        ),
    }
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        tls_port = s.getsockname()[1]
    server = RedisServer(
        extra_args=[
            "--tls-port", str(tls_port),
            "--tls-cert-file", files["cert"],
            "--tls-key-file", files["key"],
            "--tls-ca-cert-file", files["ca"],
            "--tls-auth-clients", "no",
        ]
    )  # fmt: skip
    try:
        server.start()
    except RuntimeError as exc:
        text = str(exc)
        if "Failed finding TLS support" in text or ("tls" in text and "Bad directive" in text):
            pytest.skip(f"this redis-server build has no TLS support ({server.binary})")
        raise
    try:
        server.command("ACL", "SETUSER", USER, "on", f">{PASSWORD}", f"~{PREFIX}*", "+@all")
        yield {
            "url": f"rediss://{USER}:{PASSWORD}@127.0.0.1:{tls_port}/0",
            "plain_url": f"redis://{USER}:{PASSWORD}@127.0.0.1:{tls_port}/0",
            "args": {"ssl_ca_certs": files["ca"], "ssl_check_hostname": False},
        }
    finally:
        server.stop()


class S(TypedDict):
    turns: Annotated[list[str], operator.add]


def graph(saver: Any) -> Any:
    b = StateGraph(S)
    b.add_node("talk", lambda s: {"turns": [f"turn {len(s['turns'])}"]})
    b.add_edge(START, "talk")
    b.add_edge("talk", END)
    return b.compile(checkpointer=saver)


def test_sync_saver_over_tls_with_a_prefix_restricted_user(tls: dict[str, Any]) -> None:
    config = {"configurable": {"thread_id": "secure"}}
    with RedisSaver.from_conn_string(
        tls["url"], key_prefix=PREFIX, connection_args=tls["args"]
    ) as saver:
        saver.setup()
        g = graph(saver)
        g.invoke({"turns": []}, config)
        assert g.invoke({"turns": []}, config)["turns"] == ["turn 0", "turn 1"]
        assert len(list(saver.list(None))) >= 4
        saver.copy_thread("secure", "copy")
        saver.delete_for_runs(["no-such-run"])
        saver.prune(["copy"], keep_last=1)
        saver.delete_thread("copy")
    # the same user cannot touch another prefix: the ACL really restricts it
    with (
        RedisSaver.from_conn_string(
            tls["url"], key_prefix="tenant-b", connection_args=tls["args"]
        ) as other,
        pytest.raises(NoPermissionError),
    ):
        other.setup()


async def test_async_saver_over_tls(tls: dict[str, Any]) -> None:
    config = {"configurable": {"thread_id": "secure-async"}}
    async with AsyncRedisSaver.from_conn_string(
        tls["url"], key_prefix=PREFIX, connection_args=tls["args"]
    ) as saver:
        await saver.asetup()
        result = await graph(saver).ainvoke({"turns": []}, config)
        assert result["turns"] == ["turn 0"]


def test_plain_connection_to_the_tls_port_fails(tls: dict[str, Any]) -> None:
    with (
        RedisSaver.from_conn_string(
            tls["plain_url"], key_prefix=PREFIX, connection_args={"socket_timeout": 2}
        ) as saver,
        pytest.raises(ConnectionError),
    ):
        saver.setup()
